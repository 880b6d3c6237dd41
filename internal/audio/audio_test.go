package audio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
)

func tone(rate int, hz float64, d time.Duration) audio.PCM {
	n := int(int64(d) * int64(rate) / int64(time.Second))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(12000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return audio.PCM{Rate: rate, Samples: s}
}

// crossings counts sign changes: twice the frequency per second of a tone.
func crossings(s []int16) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return n
}

// wavFile builds a WAV by hand, so the decoder is checked against the format
// rather than against our own encoder.
type wavFile struct {
	format, channels, bits uint16
	rate                   uint32
	extensible             bool
	extra                  [][2]string // chunks before data: id, body
	data                   []byte
	dataSize               uint32 // 0: len(data)
}

func (w wavFile) bytes() []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(0)) // writers often leave this wrong; the decoder ignores it
	b.WriteString("WAVE")
	for _, c := range w.extra {
		b.WriteString(c[0])
		_ = binary.Write(&b, le, uint32(len(c[1])))
		b.WriteString(c[1])
		if len(c[1])%2 == 1 {
			b.WriteByte(0)
		}
	}
	b.WriteString("fmt ")
	align := w.channels * w.bits / 8
	if w.extensible {
		_ = binary.Write(&b, le, uint32(40))
		_ = binary.Write(&b, le, uint16(0xFFFE))
	} else {
		_ = binary.Write(&b, le, uint32(16))
		_ = binary.Write(&b, le, w.format)
	}
	_ = binary.Write(&b, le, w.channels)
	_ = binary.Write(&b, le, w.rate)
	_ = binary.Write(&b, le, w.rate*uint32(align))
	_ = binary.Write(&b, le, align)
	_ = binary.Write(&b, le, w.bits)
	if w.extensible {
		_ = binary.Write(&b, le, uint16(22))
		_ = binary.Write(&b, le, w.bits)
		_ = binary.Write(&b, le, uint32(0))
		_ = binary.Write(&b, le, w.format)
		b.Write(make([]byte, 14))
	}
	b.WriteString("data")
	size := w.dataSize
	if size == 0 {
		size = uint32(len(w.data))
	}
	_ = binary.Write(&b, le, size)
	b.Write(w.data)
	return b.Bytes()
}

func TestWAVRoundTrip(t *testing.T) {
	in := tone(16000, 440, 300*time.Millisecond)
	out, err := audio.DecodeWAV(bytes.NewReader(audio.WAV(in)))
	if err != nil {
		t.Fatal(err)
	}
	if out.Rate != 16000 || !slicesEqual(out.Samples, in.Samples) {
		t.Fatalf("round trip changed the audio: rate %d, %d samples", out.Rate, len(out.Samples))
	}
	if d := out.Duration(); d != 300*time.Millisecond {
		t.Fatalf("duration %v", d)
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeFormats(t *testing.T) {
	le := binary.LittleEndian
	// Two frames: left = +half scale, right = -quarter scale → mono +1/8 scale.
	cases := []struct {
		name string
		w    wavFile
		want int16
	}{
		{"pcm8 stereo", wavFile{format: 1, channels: 2, bits: 8, rate: 8000, data: []byte{192, 96, 192, 96}}, 4096},
		{"pcm16 stereo", wavFile{format: 1, channels: 2, bits: 16, rate: 44100, data: le.AppendUint16(le.AppendUint16(le.AppendUint16(le.AppendUint16(nil, 16384), uint16(0xE000)), 16384), uint16(0xE000))}, 4096},
		{"pcm24 stereo", wavFile{format: 1, channels: 2, bits: 24, rate: 48000, data: []byte{0, 0, 0x40, 0, 0, 0xE0, 0, 0, 0x40, 0, 0, 0xE0}}, 4096},
		{"pcm32 stereo", wavFile{format: 1, channels: 2, bits: 32, rate: 22050, data: le.AppendUint32(le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 1<<30), uint32(0xE0000000)), 1<<30), uint32(0xE0000000))}, 4096},
		{"float32 stereo", wavFile{format: 3, channels: 2, bits: 32, rate: 16000, data: f32(0.5, -0.25, 0.5, -0.25)}, 4096},
		{"extensible pcm16 mono", wavFile{format: 1, channels: 1, bits: 16, rate: 16000, extensible: true, data: le.AppendUint16(le.AppendUint16(nil, 4096), 4096)}, 4096},
		{"odd chunk before data", wavFile{format: 1, channels: 1, bits: 16, rate: 16000, extra: [][2]string{{"LIST", "abc"}}, data: le.AppendUint16(le.AppendUint16(nil, 4096), 4096)}, 4096},
		{"streaming size", wavFile{format: 1, channels: 1, bits: 16, rate: 16000, dataSize: 0xFFFFFFFF, data: le.AppendUint16(le.AppendUint16(nil, 4096), 4096)}, 4096},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := audio.DecodeWAV(bytes.NewReader(c.w.bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != int(c.w.rate) || len(p.Samples) != 2 {
				t.Fatalf("rate %d, %d samples; want %d, 2", p.Rate, len(p.Samples), c.w.rate)
			}
			for _, s := range p.Samples {
				if d := int(s) - int(c.want); d < -1 || d > 1 {
					t.Fatalf("sample %d, want %d", s, c.want)
				}
			}
		})
	}
}

func f32(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	good := audio.WAV(tone(16000, 440, 10*time.Millisecond))
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, audio.ErrNotWAV},
		{"not riff", []byte("ID3\x04 some mp3 bytes here"), audio.ErrNotWAV},
		{"cut in riff header", good[:7], audio.ErrTruncated},
		{"cut in fmt", good[:20], audio.ErrTruncated},
		{"no data chunk", good[:36], audio.ErrTruncated},
		{"data header only", good[:44], audio.ErrTruncated},
		{"cut inside a frame", good[:45], audio.ErrTruncated},
		{"mu-law", wavFile{format: 7, channels: 1, bits: 8, rate: 8000, data: []byte{1, 2}}.bytes(), audio.ErrUnsupported},
		{"12-bit", wavFile{format: 1, channels: 1, bits: 12, rate: 8000, data: []byte{1, 2}}.bytes(), audio.ErrUnsupported},
		{"zero channels", wavFile{format: 1, channels: 0, bits: 16, rate: 8000, data: []byte{1, 2}}.bytes(), audio.ErrUnsupported},
		{"absurd rate", wavFile{format: 1, channels: 1, bits: 16, rate: 10, data: []byte{1, 2}}.bytes(), audio.ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := audio.DecodeWAV(bytes.NewReader(c.b))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// A declared data size longer than the file (a recording cut short) keeps what is there.
	p, err := audio.DecodeWAV(bytes.NewReader(good[:len(good)-20]))
	if err != nil || len(p.Samples) != 160-10 {
		t.Fatalf("short data: %d samples, %v", len(p.Samples), err)
	}
}

func TestResampleKeepsPitchAndLength(t *testing.T) {
	in := tone(44100, 440, time.Second)
	for _, rate := range []int{16000, 8000, 48000} {
		out := audio.Resample(in, rate)
		if out.Rate != rate {
			t.Fatalf("rate %d", out.Rate)
		}
		if d := out.Duration() - time.Second; d < -time.Millisecond || d > time.Millisecond {
			t.Fatalf("%d Hz: duration %v", rate, out.Duration())
		}
		if c := crossings(out.Samples); c < 870 || c > 890 { // 440 Hz → 880 crossings a second
			t.Fatalf("%d Hz: %d zero crossings, want ~880", rate, c)
		}
		if r := audio.RMS(out.Samples) / audio.RMS(in.Samples); r < 0.9 || r > 1.1 {
			t.Fatalf("%d Hz: level changed by %.2f", rate, r)
		}
	}
	// Content above the new Nyquist frequency is filtered, not folded back.
	high := audio.Resample(tone(48000, 7000, time.Second), 8000)
	if r := audio.RMS(high.Samples); r > 0.05 {
		t.Fatalf("7 kHz tone resampled to 8 kHz kept rms %.3f (aliasing)", r)
	}
}

func TestLevelsAndSlices(t *testing.T) {
	if audio.RMS(nil) != 0 || audio.DBFS(0) != -100 {
		t.Fatal("silence levels")
	}
	full := audio.PCM{Rate: 8000, Samples: []int16{32767, -32768, 32767, -32768}}
	if db := audio.DBFS(audio.RMS(full.Samples)); db < -0.1 || db > 0.1 {
		t.Fatalf("full scale square wave %.2f dBFS", db)
	}
	p := tone(16000, 100, time.Second)
	if s := p.Slice(250*time.Millisecond, 500*time.Millisecond); len(s.Samples) != 4000 {
		t.Fatalf("slice %d samples", len(s.Samples))
	}
	if s := p.Slice(900*time.Millisecond, 5*time.Second); len(s.Samples) != 1600 {
		t.Fatalf("clamped slice %d samples", len(s.Samples))
	}
	if got := audio.Samples(audio.Bytes(p.Samples[:5])); !slicesEqual(got, p.Samples[:5]) {
		t.Fatal("Bytes/Samples round trip")
	}
	c := audio.Concat(16000, tone(8000, 100, 100*time.Millisecond), audio.Silence(16000, 50*time.Millisecond))
	if c.Duration() != 150*time.Millisecond {
		t.Fatalf("concat %v", c.Duration())
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(audio.WAV(tone(16000, 440, 5*time.Millisecond)))
	f.Add(wavFile{format: 3, channels: 2, bits: 32, rate: 16000, data: f32(0.5, -0.25)}.bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := audio.DecodeWAV(bytes.NewReader(b))
		if err == nil && (p.Rate < 1000 || len(p.Samples) == 0) {
			t.Fatalf("accepted rate %d with %d samples", p.Rate, len(p.Samples))
		}
	})
}
