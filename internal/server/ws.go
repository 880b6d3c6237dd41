package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
)

// wsFrame is a client frame on /api/ws.
type wsFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Text           string `json:"text"`
	ActionID       string `json:"action_id"`
	MessageID      string `json:"message_id"` // edit, regenerate (branches.go)
	Approve        *bool  `json:"approve"`
	// Attachments are files sent with a send frame (attachments.go).
	Attachments []uploadJSON `json:"attachments"`
}

// websocket serves /api/ws: the browser's streaming channel. The Origin
// check (same host only) protects cookie sessions against cross-site use.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	u, lc, ok := s.openConn(w, r, kindSocket) // conns.go: signing out ends it
	if !ok {
		return
	}
	defer s.conns.release(lc)
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered (bad origin, not an upgrade)
	}
	conn.SetReadLimit(MaxSocketFrameBytes) // a send frame may carry attachments
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	attachSocket(lc, conn, cancel)
	ws := &wsSession{s: s, conn: conn, user: u, req: r, lc: lc}
	ws.serve(ctx)
}

type wsSession struct {
	s    *Server
	conn *websocket.Conn
	user store.User
	req  *http.Request // the upgrade, whose credential each frame checks again
	lc   *liveConn
	wmu  sync.Mutex
	wg   sync.WaitGroup
	// subscribed: this socket follows all of the user's events (the
	// subscribe frame); its own turns then arrive that way, once.
	subscribed atomic.Bool
}

func (ws *wsSession) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		ws.wg.Wait()
		ws.conn.CloseNow()
	}()
	ws.keepAlive(ctx)
	for {
		typ, data, err := ws.conn.Read(ctx)
		if err != nil {
			return // closed, too big (1009 sent by the library), or ctx done
		}
		if typ != websocket.MessageText {
			ws.sendError(ctx, "bad_request", "send JSON text frames; binary frames are not used on /api/ws")
			continue
		}
		if !utf8.Valid(data) {
			ws.sendError(ctx, "invalid_utf8", "frame is not valid UTF-8 text")
			continue
		}
		var f wsFrame
		if err := json.Unmarshal(data, &f); err != nil {
			ws.sendError(ctx, "bad_request", "frame is not the expected JSON: "+err.Error())
			continue
		}
		ws.handle(ctx, f)
	}
}

// signedIn checks the socket's credential again before a frame acts. A
// sign-out, a revoked token or a disabled account ends the socket at once
// on the node where it happened (conns.go) and, on a cluster, on the others
// through the broadcast; this check holds even when that message was lost
// or the change came from outside any server (os1 user disable). When the
// database cannot say, the frame is refused and the socket stays.
func (ws *wsSession) signedIn(ctx context.Context) bool {
	_, _, err := ws.s.authenticate(ws.req)
	switch {
	case err == nil:
		return true
	case errors.Is(err, errUnavailable):
		ws.sendError(ctx, "unavailable", err.Error())
	default:
		ws.lc.stop(reasonSignedOut)
	}
	return false
}

func (ws *wsSession) handle(ctx context.Context, f wsFrame) {
	if !ws.signedIn(ctx) {
		return
	}
	c := ws.s.Companion
	uid := ws.user.ID
	var events iter.Seq[companion.Event]
	var err error
	switch f.Type {
	case "send":
		if len(f.Text) > MaxMessageBytes {
			ws.sendError(ctx, "payload_too_large", fmt.Sprintf("message is %s; the limit is %s", human(len(f.Text)), human(MaxMessageBytes)))
			return
		}
		events, err = c.Send(ctx, uid, f.ConversationID, f.Text, companion.SendOptions{Files: uploads(f.Attachments)})
	case "retry":
		events, err = c.Retry(ctx, uid, f.ConversationID)
	case "edit":
		if len(f.Text) > MaxMessageBytes {
			ws.sendError(ctx, "payload_too_large", fmt.Sprintf("message is %s; the limit is %s", human(len(f.Text)), human(MaxMessageBytes)))
			return
		}
		events, err = c.Edit(ctx, uid, f.ConversationID, f.MessageID, f.Text)
	case "regenerate":
		events, err = c.Regenerate(ctx, uid, f.ConversationID, f.MessageID)
	case "confirm":
		if f.Approve == nil {
			ws.sendError(ctx, "bad_request", `confirm needs "approve": true or false`)
			return
		}
		events, err = c.Decide(ctx, uid, f.ActionID, *f.Approve)
	case "cancel":
		if _, err := c.Cancel(ctx, uid, f.ConversationID); err != nil {
			ws.sendErr(ctx, err)
		}
		return
	case "subscribe":
		ws.subscribe(ctx)
		return
	default:
		ws.sendError(ctx, "bad_request", fmt.Sprintf("unknown frame type %q; use send, edit, regenerate, retry, cancel, confirm or subscribe", f.Type))
		return
	}
	if err != nil {
		ws.sendErr(ctx, err)
		return
	}
	ws.wg.Add(1)
	go func() {
		defer ws.wg.Done()
		for ev := range events {
			if ws.subscribed.Load() {
				continue // the subscription delivers it
			}
			if ws.write(ctx, ws.s.eventOut(ev)) != nil {
				return
			}
		}
	}()
}

// subscribe makes the socket follow every event of its user, live: turns
// started on other sockets, devices or by os1 itself, tool approvals,
// memory changes. It answers {"type":"subscribed"} once the subscription is
// registered, so nothing published after that answer is missed.
func (ws *wsSession) subscribe(ctx context.Context) {
	if ws.subscribed.Load() {
		_ = ws.write(ctx, wireEvent{Type: "subscribed"})
		return
	}
	follow := ws.s.Companion.Subscribe(ctx, ws.user.ID)
	ws.subscribed.Store(true)
	_ = ws.write(ctx, wireEvent{Type: "subscribed"})
	ws.wg.Add(1)
	go func() {
		defer ws.wg.Done()
		for ev := range follow {
			if ws.write(ctx, ws.s.eventOut(ev)) != nil {
				return // the socket is gone or stopped reading; the bus forgets it
			}
		}
	}()
}

func (ws *wsSession) sendErr(ctx context.Context, err error) {
	if _, code, ok := attachmentStatus(err); ok {
		ws.sendError(ctx, code, attachmentMessage(err))
		return
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		ws.sendError(ctx, "not_found", "not found")
	case errors.Is(err, companion.ErrBusy), errors.Is(err, companion.ErrNothingToDo):
		ws.sendError(ctx, "conflict", err.Error())
	case errors.Is(err, companion.ErrInvalidUTF8):
		ws.sendError(ctx, "invalid_utf8", err.Error())
	case errors.Is(err, companion.ErrEmptyMessage), errors.Is(err, companion.ErrNUL),
		errors.Is(err, companion.ErrNotUserMessage), errors.Is(err, companion.ErrNotAssistantMessage):
		ws.sendError(ctx, "bad_request", err.Error())
	case errors.Is(err, companion.ErrShuttingDown):
		ws.sendError(ctx, "shutting_down", err.Error())
	default:
		ws.s.Log.Error("websocket turn", "err", err)
		ws.sendError(ctx, "internal", err.Error())
	}
}

func (ws *wsSession) sendError(ctx context.Context, code, msg string) {
	_ = ws.write(ctx, wireEvent{Type: "error", Error: &apiError{Code: code, Message: companion.Sentence(msg)}})
}

func (ws *wsSession) write(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, ws.s.streamTimeout)
	defer cancel()
	return ws.conn.Write(wctx, websocket.MessageText, b)
}

// pingEvery is how often keepAlive pings an open socket.
const pingEvery = 30 * time.Second

// keepAlive pings so idle proxies keep the socket open and dead peers are
// noticed, every pingEvery until ctx ends. It arms a timer and returns: no
// goroutine per socket waits between pings (issue 15: thousands of idle
// sockets). The pong is read by the socket's read loop.
func (ws *wsSession) keepAlive(ctx context.Context) {
	var mu sync.Mutex
	var t *time.Timer
	ping := func() {
		if ctx.Err() != nil {
			return
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := ws.conn.Ping(pctx)
		cancel()
		if err != nil {
			ws.conn.CloseNow()
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() == nil {
			t.Reset(pingEvery)
		}
	}
	mu.Lock()
	t = time.AfterFunc(pingEvery, ping)
	mu.Unlock()
	context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		t.Stop()
	})
}
