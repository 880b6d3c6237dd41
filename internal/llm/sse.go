package llm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxSSELine bounds one line of the event stream. Some servers send a whole
// tool call's arguments in one line, so it is generous.
const maxSSELine = 8 << 20

// sseEvent is one server-sent event: its type (the "event:" field, empty for
// the default "message") and its data lines joined by "\n".
type sseEvent struct {
	name string
	data []byte
}

// sseReader parses a text/event-stream body as the WHATWG spec describes:
// fields "event" and "data", comments starting with ':', a blank line ends an
// event, and an event cut off by the end of the stream is dropped.
type sseReader struct {
	br   *bufio.Reader
	name string
	data bytes.Buffer
	has  bool
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, 32<<10)}
}

// errSSELineTooLong is wrapped in the error for a line over maxSSELine.
var errSSELineTooLong = errors.New("server-sent event line too long")

// next returns the next event. At the end of the stream it returns io.EOF;
// read errors come back unchanged so the caller can classify them.
func (s *sseReader) next() (sseEvent, error) {
	ev, err := s.nextShared()
	ev.data = bytes.Clone(ev.data)
	return ev, err
}

// nextShared is next without the copy: the event's data is the reader's own
// buffer, valid only until the following call. The decoders read each event
// before asking for the next, so a reply costs no allocation per event here.
func (s *sseReader) nextShared() (sseEvent, error) {
	for {
		line, err := s.readLine()
		if err != nil {
			return sseEvent{}, err
		}
		if len(line) == 0 {
			if !s.has {
				s.name = ""
				continue
			}
			ev := sseEvent{name: s.name, data: s.data.Bytes()}
			s.name, s.has = "", false
			s.data.Reset()
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte{':'})
		value = bytes.TrimPrefix(value, []byte{' '})
		switch string(field) {
		case "event":
			s.name = eventName(value)
		case "data":
			if s.has {
				s.data.WriteByte('\n')
			}
			s.data.Write(value)
			s.has = true
		}
	}
}

// readLine returns one line without its "\n" or "\r\n". A last line with no
// newline is incomplete and reported as io.EOF.
func (s *sseReader) readLine() ([]byte, error) {
	var long []byte
	for {
		chunk, err := s.br.ReadSlice('\n')
		switch {
		case err == nil:
			if long != nil {
				chunk = append(long, chunk...)
			}
			if len(chunk) > maxSSELine {
				return nil, fmt.Errorf("%w (over %d bytes)", errSSELineTooLong, maxSSELine)
			}
			chunk = bytes.TrimSuffix(chunk[:len(chunk)-1], []byte{'\r'})
			return chunk, nil
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, chunk...)
			if len(long) > maxSSELine {
				return nil, fmt.Errorf("%w (over %d bytes)", errSSELineTooLong, maxSSELine)
			}
		default:
			return nil, err
		}
	}
}

func isLineTooLong(err error) bool { return errors.Is(err, errSSELineTooLong) }

// eventName is value as a string, without an allocation for the names that
// come with every token.
func eventName(value []byte) string {
	switch string(value) {
	case "content_block_delta":
		return "content_block_delta"
	case "message_delta":
		return "message_delta"
	case "content_block_start":
		return "content_block_start"
	case "content_block_stop":
		return "content_block_stop"
	case "ping":
		return "ping"
	}
	return string(value)
}
