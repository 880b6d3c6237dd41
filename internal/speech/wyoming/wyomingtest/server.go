// Package wyomingtest runs Wyoming protocol servers on 127.0.0.1 for tests:
// a real TCP listener speaking the framing, with handlers that behave like
// wyoming-faster-whisper (ASR) and wyoming-piper (TTS).
//
// It is for tests only and must never be imported by non-test code: its
// servers report protocol mistakes through testing.TB.
package wyomingtest

import (
	"bufio"
	"net"
	"sync"
	"testing"

	"github.com/os1ai/os1/internal/speech/wyoming"
)

// Handler serves one connection. The connection is closed when it returns.
type Handler func(c *Conn)

// Conn is one client connection. Its embedded net.Conn gives raw access for
// handlers that misbehave on purpose (malformed lines, early close).
type Conn struct {
	net.Conn
	r *bufio.Reader
}

// ReadEvent reads the client's next event (io.EOF when it has hung up).
func (c *Conn) ReadEvent() (wyoming.Event, error) { return wyoming.ReadEvent(c.r) }

// WriteEvent sends one event to the client.
func (c *Conn) WriteEvent(e wyoming.Event) error { return wyoming.WriteEvent(c.Conn, e) }

// Server is a Wyoming server listening on 127.0.0.1.
type Server struct {
	URL  string // tcp://127.0.0.1:port
	Addr string // 127.0.0.1:port

	ln       net.Listener
	handler  Handler
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted int
	closed   bool
}

// NewServer starts a server that runs h for each connection; it stops when
// the test ends, closing open connections and waiting for every handler.
func NewServer(t testing.TB, h Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("wyomingtest: listen: %v", err)
	}
	s := &Server{
		URL:     "tcp://" + ln.Addr().String(),
		Addr:    ln.Addr().String(),
		ln:      ln,
		handler: h,
		conns:   map[net.Conn]struct{}{},
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.accepted++
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				conn.Close()
				s.mu.Lock()
				delete(s.conns, conn)
				s.mu.Unlock()
			}()
			s.handler(&Conn{Conn: conn, r: bufio.NewReader(conn)})
		}()
	}
}

// Accepted is how many connections the server has taken.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Close stops listening, closes open connections and waits for handlers.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
