package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// account is a simulated user's credentials (from `os1 user add-many`).
type account struct{ name, token string }

// event is what the harness reads of a turn event (docs/api.md, Turn events).
type event struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Text           string `json:"text"`
	Conversation   *struct {
		ID string `json:"id"`
	} `json:"conversation"`
	Message *struct {
		Status string `json:"status"`
	} `json:"message"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	at time.Time
}

// recorder gathers one step's measurements; users merge into it once a turn.
type recorder struct {
	mu         sync.Mutex
	from, to   time.Time // the measured window: turns sent in it count
	first      []float64 // ms os1 added before the first delta
	inter      []float64 // ms os1 added between deltas
	turns      int       // turns in the window that ended well
	errs       map[string]int
	sent       atomic.Int64 // turns sent, in the window or not
	tabTurns   atomic.Int64 // turn_done seen by second tabs
	tabWanted  atomic.Int64 // turns of users with a second tab
	lagged     atomic.Int64
	connected  atomic.Int64
	firstSeen  []string // the first few error messages, for the report
	tokenDelay time.Duration
	ttft       time.Duration
}

func newRecorder(p modelPace) *recorder {
	return &recorder{errs: map[string]int{}, tokenDelay: time.Duration(float64(time.Second) / p.tps), ttft: p.ttft}
}

func (r *recorder) fail(kind string, err error) {
	r.mu.Lock()
	r.errs[kind]++
	if len(r.firstSeen) < 5 && err != nil {
		r.firstSeen = append(r.firstSeen, kind+": "+err.Error())
	}
	r.mu.Unlock()
}

// turn is one exchange as a client saw it.
type turn struct {
	sent       time.Time
	firstDelta time.Time
	inter      []float64
	last       time.Time
	tokens     int
	step       time.Duration // the model's time between tokens
}

func (t *turn) delta(e event) {
	n := max(1, strings.Count(e.Text, " "))
	t.tokens += n
	if t.firstDelta.IsZero() {
		t.firstDelta = e.at
	} else {
		// the model spaces tokens tokenDelay apart; what is more is os1's
		t.inter = append(t.inter, float64(e.at.Sub(t.last)-time.Duration(n)*t.step)/float64(time.Millisecond))
	}
	t.last = e.at
}

func (r *recorder) done(t *turn) {
	if t.sent.Before(r.from) || !t.sent.Before(r.to) {
		return
	}
	r.mu.Lock()
	r.turns++
	r.first = append(r.first, float64(t.firstDelta.Sub(t.sent)-r.ttft)/float64(time.Millisecond))
	r.inter = append(r.inter, t.inter...)
	r.mu.Unlock()
}

type simUser struct {
	i     int
	acc   account
	base  string // http://host:port of its node
	other string // the node of its second tab and of the read-back (another one on a cluster)
	sse   bool
	tab   bool
	think time.Duration
	jit   time.Duration
	hc    *http.Client
	rec   *recorder
	rng   *rand.Rand
	once  bool // one turn, then stop (the warm-up)
	// what the conversation should hold afterwards
	conv          string
	sent, replied int
}

func (u *simUser) pause(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

func (u *simUser) thinkTime() time.Duration {
	d := u.think
	if u.jit > 0 {
		d += time.Duration(u.rng.Int64N(int64(2*u.jit))) - u.jit
	}
	return max(d, 0)
}

func (u *simUser) text(n int) string {
	return fmt.Sprintf("Message %d from %s: I walked by the river today and thought about what we said on Tuesday.", n, u.acc.name)
}

// run is a person: connect, then send, read the reply to the end, think,
// until stop closes (the turn under way ends first); ctx aborts at once.
func (u *simUser) run(ctx context.Context, stop <-chan struct{}) {
	if u.sse {
		u.runSSE(ctx, stop)
		return
	}
	conn, err := u.dial(ctx, u.base)
	if err != nil {
		u.rec.fail("connect", err)
		return
	}
	defer conn.CloseNow()
	events := make(chan event, 1024)
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	go readWS(rctx, conn, events)
	conv, tabDone, ok := u.open(ctx, rctx)
	if !ok {
		return
	}
	u.conv = conv
	if !u.pause(ctx, stop, time.Duration(u.rng.Int64N(int64(u.think+u.jit)+1))) {
		return
	}
	for n := 1; ; n++ {
		b, _ := json.Marshal(map[string]string{"type": "send", "conversation_id": conv, "text": u.text(n)})
		t := &turn{sent: time.Now(), step: u.rec.tokenDelay}
		u.rec.sent.Add(1)
		u.sent++
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			u.rec.fail("send", err)
			return
		}
		timeout := time.NewTimer(2 * time.Minute)
		ok = false
	read:
		for {
			select {
			case e, open := <-events:
				if !open {
					u.rec.fail("socket closed", errors.New("the socket closed mid-turn"))
					timeout.Stop()
					return
				}
				if !u.handle(t, e, &ok) {
					break read
				}
			case <-timeout.C:
				u.rec.fail("timeout", errors.New("no turn_done within 2 minutes"))
				return
			case <-ctx.Done():
				timeout.Stop()
				return
			}
		}
		timeout.Stop()
		if u.tab {
			u.rec.tabWanted.Add(1)
		}
		if ok {
			u.replied++
			u.rec.done(t)
		}
		if !u.pause(ctx, stop, u.thinkTime()) {
			break
		}
	}
	if tabDone != nil {
		// let the second tab see the last turn's end, then close it
		u.pause(ctx, nil, time.Second)
		rcancel()
		<-tabDone
	}
}

// handle takes one event of a turn; false when the turn is over.
func (u *simUser) handle(t *turn, e event, ok *bool) bool {
	switch e.Type {
	case "delta":
		t.delta(e)
	case "lagged":
		u.rec.lagged.Add(1)
	case "assistant_done":
		if e.Message != nil && e.Message.Status != "complete" {
			u.rec.fail("reply "+e.Message.Status, nil)
			*ok = false
			return true
		}
		*ok = !t.firstDelta.IsZero()
		if !*ok {
			u.rec.fail("no delta", errors.New("a reply ended without any delta"))
		}
	case "error":
		msg := ""
		code := "error"
		if e.Error != nil {
			code, msg = e.Error.Code, e.Error.Message
		}
		u.rec.fail("error "+code, errors.New(msg))
		*ok = false
	case "turn_done":
		return false
	}
	return true
}

func (u *simUser) dial(ctx context.Context, base string) (*websocket.Conn, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+u.acc.token)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/api/ws", &websocket.DialOptions{HTTPHeader: h, HTTPClient: u.hc})
	if err != nil {
		if res != nil {
			return nil, fmt.Errorf("%w (HTTP %d)", err, res.StatusCode)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	return conn, nil
}

func readWS(ctx context.Context, conn *websocket.Conn, out chan<- event) {
	defer close(out)
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var e event
		if json.Unmarshal(data, &e) != nil {
			continue
		}
		e.at = time.Now()
		select {
		case out <- e:
		case <-ctx.Done():
			return
		}
	}
}

// open makes the user's conversation and, for a user with a second tab,
// opens that tab and waits until it follows the user (tabCtx ends it).
func (u *simUser) open(ctx, tabCtx context.Context) (conv string, tabDone chan struct{}, ok bool) {
	var c struct {
		ID string `json:"id"`
	}
	if err := u.call(ctx, u.base, "POST", "/api/conversations", `{}`, &c); err != nil || c.ID == "" {
		u.rec.fail("connect", fmt.Errorf("create conversation: %v", err))
		return "", nil, false
	}
	if u.tab {
		tabDone = make(chan struct{})
		ready := make(chan bool, 1)
		go func() { defer close(tabDone); u.secondTab(tabCtx, c.ID, ready) }()
		if !<-ready {
			return "", nil, false
		}
	}
	u.rec.connected.Add(1)
	return c.ID, tabDone, true
}

// secondTab is the same user's other tab, on the other node: a socket that
// subscribes and counts the ends of that conversation's turns.
func (u *simUser) secondTab(ctx context.Context, conv string, ready chan<- bool) {
	conn, err := u.dial(ctx, u.other)
	if err != nil {
		u.rec.fail("tab connect", err)
		ready <- false
		return
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe"}`)); err != nil {
		u.rec.fail("tab connect", err)
		ready <- false
		return
	}
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			u.rec.fail("tab connect", err)
			ready <- false
			return
		}
		if bytes.Contains(data, []byte(`"subscribed"`)) {
			break
		}
	}
	ready <- true
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var e event
		if json.Unmarshal(data, &e) != nil {
			continue
		}
		switch {
		case e.Type == "turn_done" && e.ConversationID == conv:
			u.rec.tabTurns.Add(1)
		case e.Type == "lagged":
			u.rec.lagged.Add(1)
		}
	}
}

// runSSE is a user whose client posts each message and reads the turn as
// Server-Sent Events.
func (u *simUser) runSSE(ctx context.Context, stop <-chan struct{}) {
	tctx, tcancel := context.WithCancel(ctx)
	defer tcancel()
	convID, tabDone, ok := u.open(ctx, tctx)
	if !ok {
		return
	}
	u.conv = convID
	if !u.pause(ctx, stop, time.Duration(u.rng.Int64N(int64(u.think+u.jit)+1))) {
		return
	}
	for n := 1; ; n++ {
		b, _ := json.Marshal(map[string]string{"text": u.text(n)})
		req, _ := http.NewRequestWithContext(ctx, "POST", u.base+"/api/conversations/"+convID+"/messages", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+u.acc.token)
		req.Header.Set("Content-Type", "application/json")
		t := &turn{sent: time.Now(), step: u.rec.tokenDelay}
		u.rec.sent.Add(1)
		u.sent++
		res, err := u.hc.Do(req)
		if err != nil {
			u.rec.fail("send", err)
			return
		}
		if res.StatusCode != http.StatusOK {
			res.Body.Close()
			u.rec.fail(fmt.Sprintf("HTTP %d", res.StatusCode), nil)
			return
		}
		ok = false
		ended := false
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			data, found := strings.CutPrefix(sc.Text(), "data: ")
			if !found {
				continue
			}
			var e event
			if json.Unmarshal([]byte(data), &e) != nil {
				continue
			}
			e.at = time.Now()
			if !u.handle(t, e, &ok) {
				ended = true
				break
			}
		}
		res.Body.Close()
		if !ended {
			u.rec.fail("stream cut", sc.Err())
			return
		}
		if u.tab {
			u.rec.tabWanted.Add(1)
		}
		if ok {
			u.replied++
			u.rec.done(t)
		}
		if u.once || !u.pause(ctx, stop, u.thinkTime()) {
			break
		}
	}
	if tabDone != nil {
		u.pause(ctx, nil, time.Second)
		tcancel()
		<-tabDone
	}
}

func (u *simUser) call(ctx context.Context, base, method, path, body string, out any) error {
	req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+u.acc.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := u.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d", method, path, res.StatusCode)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// lost reads the conversation back (from the other node) and counts what
// is missing from it: a sent message not stored, or a reply that ended
// well but is not stored complete with every token.
func (u *simUser) lost(ctx context.Context, tokens int) (int, error) {
	if u.conv == "" {
		return 0, nil
	}
	var c struct {
		Messages []struct {
			Role    string `json:"role"`
			Status  string `json:"status"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := u.call(ctx, u.other, "GET", "/api/conversations/"+u.conv, "", &c); err != nil {
		return 0, err
	}
	users, replies := 0, 0
	for _, m := range c.Messages {
		switch {
		case m.Role == "user":
			users++
		case m.Role == "assistant" && m.Status == "complete" && strings.Count(m.Content, strings.TrimSpace(word)) == tokens:
			replies++
		}
	}
	return max(u.sent-users, 0) + max(u.replied-replies, 0), nil
}
