package wyoming

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
)

// Limits on one event read from a server. A Wyoming server is trusted to
// speak the protocol, not to be bounded: these keep a confused or hostile one
// from making os1 allocate without end.
const (
	MaxHeaderBytes  = 1 << 20  // the JSON header line
	MaxDataBytes    = 1 << 20  // the additional JSON data after the header
	MaxPayloadBytes = 16 << 20 // the binary payload (a chunk of audio)
)

// ProtocolVersion is sent in every header. Servers read it for information
// only; the framing has not changed across versions.
const ProtocolVersion = "1.5.4"

// ErrProtocol is a stream that does not follow the Wyoming framing: a header
// that is not JSON or has no type, negative or oversized lengths, data that
// is not a JSON object.
var ErrProtocol = errors.New("wyoming protocol error")

// Event is one Wyoming message: a type, an optional JSON object of fields and
// an optional binary payload (PCM audio for audio-chunk).
type Event struct {
	Type    string
	Data    map[string]any // nil when the event has no fields
	Payload []byte         // nil when the event has no payload
}

// DecodeData fills v (a pointer to a struct or map) from e.Data.
func (e Event) DecodeData(v any) error {
	b, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("%w: %s event data: %w", ErrProtocol, e.Type, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s event data: %w", ErrProtocol, e.Type, err)
	}
	return nil
}

type header struct {
	Type          string         `json:"type"`
	Data          map[string]any `json:"data,omitempty"`
	DataLength    int64          `json:"data_length,omitempty"`
	PayloadLength int64          `json:"payload_length,omitempty"`
	Version       string         `json:"version,omitempty"`
}

// ReadEvent reads one event: a JSON header line, then data_length bytes of
// JSON merged over the header's data, then payload_length bytes of payload.
// A stream that ends cleanly between events gives io.EOF; one that ends
// inside an event gives an error wrapping io.ErrUnexpectedEOF. Blank lines
// between events are skipped.
func ReadEvent(r *bufio.Reader) (Event, error) {
	line, err := readLine(r)
	if err != nil {
		return Event{}, err
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return Event{}, fmt.Errorf("%w: header line is not JSON (%.80q): %w", ErrProtocol, line, err)
	}
	if h.Type == "" {
		return Event{}, fmt.Errorf("%w: header line has no type (%.80q)", ErrProtocol, line)
	}
	switch {
	case h.DataLength < 0 || h.PayloadLength < 0:
		return Event{}, fmt.Errorf("%w: %s event with negative data_length %d or payload_length %d", ErrProtocol, h.Type, h.DataLength, h.PayloadLength)
	case h.DataLength > MaxDataBytes:
		return Event{}, fmt.Errorf("%w: %s event with %d bytes of data (limit %d)", ErrProtocol, h.Type, h.DataLength, MaxDataBytes)
	case h.PayloadLength > MaxPayloadBytes:
		return Event{}, fmt.Errorf("%w: %s event with a payload of %d bytes (limit %d)", ErrProtocol, h.Type, h.PayloadLength, MaxPayloadBytes)
	}
	e := Event{Type: h.Type, Data: h.Data}
	if h.DataLength > 0 {
		raw := make([]byte, h.DataLength)
		if _, err := io.ReadFull(r, raw); err != nil {
			return Event{}, fmt.Errorf("reading the data of a %s event: %w", h.Type, unexpected(err))
		}
		var extra map[string]any
		if err := json.Unmarshal(raw, &extra); err != nil {
			return Event{}, fmt.Errorf("%w: data of a %s event is not a JSON object: %w", ErrProtocol, h.Type, err)
		}
		if e.Data == nil {
			e.Data = extra
		} else {
			maps.Copy(e.Data, extra)
		}
	}
	if h.PayloadLength > 0 {
		e.Payload = make([]byte, h.PayloadLength)
		if _, err := io.ReadFull(r, e.Payload); err != nil {
			return Event{}, fmt.Errorf("reading the payload of a %s event: %w", h.Type, unexpected(err))
		}
	}
	return e, nil
}

// readLine returns the next non-blank line without its terminator.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxHeaderBytes+1 {
			return nil, fmt.Errorf("%w: header line longer than %d bytes", ErrProtocol, MaxHeaderBytes)
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			if t := bytes.TrimSpace(line); len(t) > 0 {
				return t, nil
			}
			line = line[:0]
		case errors.Is(err, bufio.ErrBufferFull):
			// a long line: keep reading
		case errors.Is(err, io.EOF):
			if len(bytes.TrimSpace(line)) == 0 {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("stream ended inside a header line: %w", io.ErrUnexpectedEOF)
		default:
			return nil, err
		}
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// WriteEvent writes e in one Write, as the reference implementation frames
// it: fields go in the additional data section (data_length), not inline in
// the header, and empty data or payload are left out.
func WriteEvent(w io.Writer, e Event) error {
	if e.Type == "" {
		return fmt.Errorf("%w: event without a type", ErrProtocol)
	}
	h := header{Type: e.Type, Version: ProtocolVersion, PayloadLength: int64(len(e.Payload))}
	var data []byte
	if len(e.Data) > 0 {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return fmt.Errorf("encoding the data of a %s event: %w", e.Type, err)
		}
		h.DataLength = int64(len(data))
	}
	line, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encoding a %s event header: %w", e.Type, err)
	}
	buf := make([]byte, 0, len(line)+1+len(data)+len(e.Payload))
	buf = append(buf, line...)
	buf = append(buf, '\n')
	buf = append(buf, data...)
	buf = append(buf, e.Payload...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("sending a %s event: %w", e.Type, err)
	}
	return nil
}
