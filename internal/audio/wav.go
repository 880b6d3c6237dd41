package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Errors from DecodeWAV, tested with errors.Is.
var (
	ErrNotWAV      = errors.New("not a WAV file (expected a RIFF/WAVE header)")
	ErrTruncated   = errors.New("WAV file is truncated")
	ErrUnsupported = errors.New("unsupported WAV encoding")
)

// MaxWAVBytes bounds what DecodeWAV reads (about 1 hour of 48 kHz stereo).
const MaxWAVBytes = 1 << 30

const (
	formatPCM        = 1
	formatFloat      = 3
	formatExtensible = 0xFFFE
)

// DecodeWAV reads a RIFF/WAVE file: integer PCM of 8, 16, 24 or 32 bits or
// 32/64-bit float, any sample rate, any number of channels (mixed down to
// mono). A data chunk whose declared size runs past the end of the file (as
// streaming writers leave it) is read to the end; a file cut inside a sample
// frame or before any data is ErrTruncated.
func DecodeWAV(r io.Reader) (PCM, error) {
	var hdr [12]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if n == 0 {
			return PCM{}, fmt.Errorf("%w: empty input", ErrNotWAV)
		}
		return PCM{}, fmt.Errorf("%w: %d-byte header", ErrTruncated, n)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return PCM{}, ErrNotWAV
	}
	var (
		haveFmt              bool
		format, channels     uint16
		rate                 uint32
		bits, blockAlign     uint16
		readBytes, chunkHead = 12, [8]byte{}
	)
	for {
		if _, err := io.ReadFull(r, chunkHead[:]); err != nil {
			if haveFmt {
				return PCM{}, fmt.Errorf("%w: no data chunk", ErrTruncated)
			}
			return PCM{}, fmt.Errorf("%w: no fmt chunk", ErrTruncated)
		}
		id := string(chunkHead[0:4])
		size := binary.LittleEndian.Uint32(chunkHead[4:8])
		readBytes += 8
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return PCM{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrUnsupported, size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return PCM{}, fmt.Errorf("%w: inside the fmt chunk", ErrTruncated)
			}
			format = binary.LittleEndian.Uint16(b[0:2])
			channels = binary.LittleEndian.Uint16(b[2:4])
			rate = binary.LittleEndian.Uint32(b[4:8])
			blockAlign = binary.LittleEndian.Uint16(b[12:14])
			bits = binary.LittleEndian.Uint16(b[14:16])
			if format == formatExtensible && size >= 40 {
				format = binary.LittleEndian.Uint16(b[24:26]) // sub-format GUID starts with the format code
			}
			haveFmt = true
			readBytes += len(b)
		case "data":
			if !haveFmt {
				return PCM{}, fmt.Errorf("%w: data chunk before fmt chunk", ErrUnsupported)
			}
			if err := checkFormat(format, channels, rate, bits, blockAlign); err != nil {
				return PCM{}, err
			}
			limit := int64(size)
			if size == 0 || size == 0xFFFFFFFF {
				limit = MaxWAVBytes // streaming writers leave the size unknown
			}
			data, err := io.ReadAll(io.LimitReader(r, min(limit, MaxWAVBytes)+1))
			if err != nil {
				return PCM{}, fmt.Errorf("read WAV data: %w", err)
			}
			if int64(len(data)) > MaxWAVBytes {
				return PCM{}, fmt.Errorf("WAV data is over %d bytes", MaxWAVBytes)
			}
			frame := int(blockAlign)
			if len(data) < frame {
				return PCM{}, fmt.Errorf("%w: no complete sample in the data chunk", ErrTruncated)
			}
			if len(data)%frame != 0 {
				return PCM{}, fmt.Errorf("%w: data ends inside a sample frame (%d bytes, frames of %d)", ErrTruncated, len(data), frame)
			}
			return PCM{Rate: int(rate), Samples: mixDown(data, format, int(channels), int(bits)/8)}, nil
		default:
			skip := int64(size) + int64(size%2)
			if n, err := io.CopyN(io.Discard, r, skip); err != nil || n != skip {
				return PCM{}, fmt.Errorf("%w: inside the %q chunk", ErrTruncated, id)
			}
			readBytes += int(skip)
		}
		if readBytes > MaxWAVBytes {
			return PCM{}, fmt.Errorf("%w: no data chunk in the first %d bytes", ErrUnsupported, MaxWAVBytes)
		}
	}
}

func checkFormat(format, channels uint16, rate uint32, bits, blockAlign uint16) error {
	switch {
	case format != formatPCM && format != formatFloat:
		return fmt.Errorf("%w: format code %#x (only PCM and IEEE float)", ErrUnsupported, format)
	case channels == 0 || channels > 16:
		return fmt.Errorf("%w: %d channels", ErrUnsupported, channels)
	case rate < 1000 || rate > 384000:
		return fmt.Errorf("%w: sample rate %d Hz", ErrUnsupported, rate)
	case format == formatPCM && bits != 8 && bits != 16 && bits != 24 && bits != 32:
		return fmt.Errorf("%w: %d-bit integer samples", ErrUnsupported, bits)
	case format == formatFloat && bits != 32 && bits != 64:
		return fmt.Errorf("%w: %d-bit float samples", ErrUnsupported, bits)
	case int(blockAlign) != int(channels)*int(bits)/8:
		return fmt.Errorf("%w: block align %d for %d channels of %d bits", ErrUnsupported, blockAlign, channels, bits)
	}
	return nil
}

func mixDown(data []byte, format uint16, channels, width int) []int16 {
	frames := len(data) / (channels * width)
	out := make([]int16, frames)
	for i := range frames {
		var sum float64
		for c := range channels {
			sum += sample(data[(i*channels+c)*width:], format, width)
		}
		out[i] = clip16(sum / float64(channels) * 32768)
	}
	return out
}

// sample decodes one sample to [-1, 1).
func sample(b []byte, format uint16, width int) float64 {
	if format == formatFloat {
		if width == 4 {
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	switch width {
	case 1:
		return (float64(b[0]) - 128) / 128
	case 2:
		return float64(int16(binary.LittleEndian.Uint16(b))) / 32768
	case 3:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / (1 << 23)
	default:
		return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31)
	}
}

// EncodeWAV writes p as a 16-bit mono PCM WAV file.
func EncodeWAV(w io.Writer, p PCM) error {
	_, err := w.Write(WAV(p))
	return err
}

// WAV returns p as the bytes of a 16-bit mono PCM WAV file.
func WAV(p PCM) []byte {
	data := 2 * len(p.Samples)
	var b bytes.Buffer
	b.Grow(44 + data)
	le := binary.LittleEndian
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(36+data))
	b.WriteString("WAVEfmt ")
	_ = binary.Write(&b, le, uint32(16))
	_ = binary.Write(&b, le, uint16(formatPCM))
	_ = binary.Write(&b, le, uint16(1))
	_ = binary.Write(&b, le, uint32(p.Rate))
	_ = binary.Write(&b, le, uint32(p.Rate*2))
	_ = binary.Write(&b, le, uint16(2))
	_ = binary.Write(&b, le, uint16(16))
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(data))
	b.Write(Bytes(p.Samples))
	return b.Bytes()
}
