package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/voice"
)

// voiceCall serves /api/voice: one WebSocket is one call
// (docs/voice-protocol.md). Authentication and the Origin check are those
// of /api/ws; the call itself is the voice package's.
func (s *Server) voiceCall(w http.ResponseWriter, r *http.Request) {
	u, lc, ok := s.openConn(w, r, kindCall) // conns.go: signing out hangs up
	if !ok {
		return
	}
	defer s.conns.release(lc)
	if s.Voice == nil {
		writeError(w, http.StatusServiceUnavailable, "voice_unavailable",
			"voice calls are not enabled on this server: configure a speech-to-text and a text-to-speech engine ([voice] in config.toml; `os1 doctor` shows what is missing)")
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered (bad origin, not an upgrade)
	}
	conn.SetReadLimit(MaxBodyBytes)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	attachSocket(lc, conn, cancel)
	sink := &voiceSink{s: s, conn: conn}
	call := s.Voice.Call(u.ID, sink)
	ws := &wsSession{s: s, conn: conn, user: u}
	pingCtx, stopPings := context.WithCancel(ctx)
	go ws.keepAlive(pingCtx)
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			break // closed, too big (1009 sent by the library), or ctx done
		}
		if typ == websocket.MessageBinary {
			call.Binary(data)
			continue
		}
		if errors.Is(call.Text(ctx, data), voice.ErrHangUp) {
			break
		}
	}
	stopPings() // a ping now would wait for a pong nobody reads
	// Close cuts a reply in progress and stores what was heard; then the
	// frames it queued (interrupted, timeline) go out before the socket closes.
	call.Close()
	conn.Close(websocket.StatusNormalClosure, "call ended")
}

// voiceSink writes a call's frames to its WebSocket; the voice package
// calls it from one goroutine, keepalive pings go alongside.
type voiceSink struct {
	s    *Server
	conn *websocket.Conn
	mu   sync.Mutex
}

var _ voice.Sink = (*voiceSink)(nil)

func (v *voiceSink) write(ctx context.Context, typ websocket.MessageType, b []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return v.conn.Write(wctx, typ, b)
}

// JSON implements voice.Sink.
func (v *voiceSink) JSON(ctx context.Context, f any) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return v.write(ctx, websocket.MessageText, b)
}

// Event implements voice.Sink: turn events as on /api/ws.
func (v *voiceSink) Event(ctx context.Context, ev companion.Event) error {
	return v.JSON(ctx, v.s.eventOut(ev))
}

// Binary implements voice.Sink.
func (v *voiceSink) Binary(ctx context.Context, pcm []byte) error {
	return v.write(ctx, websocket.MessageBinary, pcm)
}
