package wyoming

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func read(s string) (Event, error) {
	return ReadEvent(bufio.NewReader(strings.NewReader(s)))
}

func TestWriteEventFraming(t *testing.T) {
	var b bytes.Buffer
	err := WriteEvent(&b, Event{Type: "audio-chunk", Data: map[string]any{"rate": 16000, "width": 2, "channels": 1}, Payload: []byte{1, 2, 3, 4}})
	if err != nil {
		t.Fatal(err)
	}
	data := `{"channels":1,"rate":16000,"width":2}`
	want := fmt.Sprintf(`{"type":"audio-chunk","data_length":%d,"payload_length":4,"version":%q}`, len(data), ProtocolVersion) + "\n" + data + "\x01\x02\x03\x04"
	if b.String() != want {
		t.Fatalf("wrote\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	if err := WriteEvent(&b, Event{Type: "audio-stop"}); err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"audio-stop","version":"` + ProtocolVersion + `"}` + "\n"; b.String() != want {
		t.Fatalf("wrote %q, want %q", b.String(), want)
	}

	if err := WriteEvent(&b, Event{}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("event without a type: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	events := []Event{
		{Type: "describe"},
		{Type: "transcribe", Data: map[string]any{"language": "en", "name": "tiny-int8"}},
		{Type: "audio-chunk", Data: map[string]any{"rate": float64(16000)}, Payload: bytes.Repeat([]byte{0, 0x80}, 1600)},
		{Type: "transcript", Data: map[string]any{"text": "héllo\nthere ✓"}},
	}
	var b bytes.Buffer
	for _, e := range events {
		if err := WriteEvent(&b, e); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&b)
	for _, want := range events {
		got, err := ReadEvent(r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read %+v, want %+v", got, want)
		}
	}
	if _, err := ReadEvent(r); err != io.EOF {
		t.Fatalf("after the last event: %v, want io.EOF", err)
	}
}

func TestReadEvent(t *testing.T) {
	// Fields in the header's data and in the data section merge, the data
	// section winning; blank lines and CRLF are tolerated.
	e, err := read("\n\r\n" + `{"type":"synthesize","data":{"text":"a","voice":{"name":"x"}},"data_length":12}` + "\r\n" + `{"text":"b"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"text": "b", "voice": map[string]any{"name": "x"}}
	if e.Type != "synthesize" || !reflect.DeepEqual(e.Data, want) || e.Payload != nil {
		t.Fatalf("got %+v", e)
	}
	// Inline data only, explicit zero lengths, a payload with no data.
	e, err = read(`{"type":"audio-chunk","data":{"rate":22050},"data_length":0,"payload_length":2}` + "\nab")
	if err != nil || e.Data["rate"] != float64(22050) || string(e.Payload) != "ab" {
		t.Fatalf("got %+v, %v", e, err)
	}
	var f struct{ Rate int }
	if err := e.DecodeData(&f); err != nil || f.Rate != 22050 {
		t.Fatalf("DecodeData: %+v, %v", f, err)
	}
}

func TestReadEventErrors(t *testing.T) {
	long := `{"type":"x","data":{"pad":"` + strings.Repeat("a", MaxHeaderBytes) + `"}}` + "\n"
	for _, c := range []struct {
		name, in string
		want     error
		msg      string
	}{
		{"EmptyStream", "", io.EOF, ""},
		{"OnlyBlankLines", "\n\n", io.EOF, ""},
		{"NotJSON", "hello\n", ErrProtocol, "not JSON"},
		{"NoType", `{"data":{}}` + "\n", ErrProtocol, "no type"},
		{"DataNotObject", `{"type":"x","data":"s"}` + "\n", ErrProtocol, "not JSON"},
		{"HeaderTooLong", long, ErrProtocol, "header line longer"},
		{"NegativeLength", `{"type":"x","payload_length":-1}` + "\n", ErrProtocol, "negative"},
		{"DataTooLarge", fmt.Sprintf(`{"type":"x","data_length":%d}`, MaxDataBytes+1) + "\n", ErrProtocol, "bytes of data"},
		{"PayloadTooLarge", `{"type":"audio-chunk","payload_length":1073741824}` + "\n", ErrProtocol, "payload of 1073741824 bytes"},
		{"ExtraDataNotObject", `{"type":"x","data_length":2}` + "\n[]", ErrProtocol, "not a JSON object"},
		{"EndsInHeader", `{"type":"x"`, io.ErrUnexpectedEOF, "inside a header"},
		{"EndsInData", `{"type":"x","data_length":10}` + "\n{}", io.ErrUnexpectedEOF, "data of a x event"},
		{"EndsInPayload", `{"type":"x","payload_length":10}` + "\nabc", io.ErrUnexpectedEOF, "payload of a x event"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := read(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(fmt.Sprint(err), c.msg) {
				t.Fatalf("err = %v, want it to say %q", err, c.msg)
			}
		})
	}
}

func FuzzReadEvent(f *testing.F) {
	f.Add([]byte(`{"type":"audio-chunk","data":{"rate":16000},"data_length":2,"payload_length":2}` + "\n{}ab"))
	f.Add([]byte(`{"type":"x"}` + "\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for range 8 {
			e, err := ReadEvent(r)
			if err != nil {
				return
			}
			if e.Type == "" {
				t.Fatal("event without a type")
			}
		}
	})
}
