package llm

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestSSEReader(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	for _, tc := range []struct {
		name, in string
		want     []sseEvent
	}{
		{"one event", "data: a\n\n", []sseEvent{{data: []byte("a")}}},
		{"named, CRLF", "event: ping\r\ndata: {}\r\n\r\n", []sseEvent{{name: "ping", data: []byte("{}")}}},
		{"comments and blank lines", ": keep-alive\n\n\n:x\ndata: a\n\n", []sseEvent{{data: []byte("a")}}},
		{"multi-line data", "data: a\ndata: b\n\n", []sseEvent{{data: []byte("a\nb")}}},
		{"no space after colon", "data:a\n\n", []sseEvent{{data: []byte("a")}}},
		{"name resets", "event: x\ndata: 1\n\ndata: 2\n\n", []sseEvent{{name: "x", data: []byte("1")}, {data: []byte("2")}}},
		{"ignored fields", "id: 7\nretry: 100\ndata: a\n\n", []sseEvent{{data: []byte("a")}}},
		{"incomplete last event dropped", "data: a\n\ndata: b\n", []sseEvent{{data: []byte("a")}}},
		{"incomplete last line dropped", "data: a\n\ndata: b", []sseEvent{{data: []byte("a")}}},
		{"line longer than the buffer", "data: " + long + "\n\n", []sseEvent{{data: []byte(long)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newSSEReader(strings.NewReader(tc.in))
			var got []sseEvent
			for {
				ev, err := r.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ev)
			}
			if !slices.EqualFunc(got, tc.want, func(a, b sseEvent) bool { return a.name == b.name && string(a.data) == string(b.data) }) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSSEReaderLimits(t *testing.T) {
	r := newSSEReader(io.MultiReader(strings.NewReader("data: "), strings.NewReader(strings.Repeat("x", maxSSELine)+"\n\n")))
	if _, err := r.next(); !errors.Is(err, errSSELineTooLong) {
		t.Errorf("err = %v, want errSSELineTooLong", err)
	}
	r = newSSEReader(io.MultiReader(strings.NewReader("data: a\n"), errReader{io.ErrUnexpectedEOF}))
	if _, err := r.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want the read error passed through", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
