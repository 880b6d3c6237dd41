// Package clustere2e runs os1 as a cluster of real processes: two `os1
// serve` nodes on one PostgreSQL (internal/store/pgtest) joined through an
// embedded NATS server with JetStream, answering with the scripted model
// (internal/llm/llmtest). Tests only (issue 15, docs/scale.md).
package clustere2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store/pgtest"
)

// os1Bin is the binary TestMain builds once.
var os1Bin string

const (
	startTimeout = 60 * time.Second
	waitTimeout  = 30 * time.Second
	// staleAfter is the nodes' bound for a reply still streaming with no
	// node running its turn; jobAckWait how long a dead node keeps a job.
	// Short, so the tests wait seconds, not the default 30 s.
	staleAfter = "2s"
	jobAckWait = "2s"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "os1-cluster-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os1Bin = filepath.Join(dir, "os1")
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	cmd := exec.Command(goBin, "build", "-o", os1Bin, "github.com/os1ai/os1/cmd/os1")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "cluster e2e: os1 does not build: %v\n%s\n", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	pgtest.MainThen(m, func() { os.RemoveAll(dir) })
}

// natsd is an embedded NATS server with JetStream, restartable on its port
// and store.
type natsd struct {
	t    *testing.T
	port int
	dir  string
	s    *server.Server
}

func startNATS(t *testing.T) *natsd {
	n := &natsd{t: t, port: freePort(t), dir: t.TempDir()}
	n.start()
	t.Cleanup(func() {
		if n.s != nil {
			n.s.Shutdown()
		}
	})
	return n
}

func (n *natsd) start() {
	n.t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: n.port, JetStream: true,
		StoreDir: n.dir, NoLog: true, NoSigs: true})
	if err != nil {
		n.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		n.t.Fatal("nats server not ready")
	}
	n.s = s
}

func (n *natsd) stop() {
	n.s.Shutdown()
	n.s.WaitForShutdown()
	n.s = nil
}

func (n *natsd) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a process's output, read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// node is one running `os1 serve`.
type node struct {
	t          *testing.T
	name       string
	cmd        *exec.Cmd
	URL        string
	DataDir    string
	SetupToken string
	out        syncBuffer
	done       chan struct{}
	// model is this node's scripted model: which node asked what is known.
	model *llmtest.Server
}

// fixture is a cluster: PostgreSQL database and NATS; each node has a
// scripted model of its own.
type fixture struct {
	t    *testing.T
	db   string
	nats *natsd
	// script prepares each node's model (routes) before the node starts.
	script func(*node)
	key    []byte // the first node's secret key, which every node shares
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, db: pgtest.New(t), nats: startNATS(t)}
	return f
}

// start runs a node; the first one's secret key is copied to the others
// (docs/scale.md: every node holds the same key).
func (f *fixture) start(name string, extra ...string) *node {
	t := f.t
	t.Helper()
	home := t.TempDir()
	data := filepath.Join(home, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if f.key != nil {
		if err := os.WriteFile(filepath.Join(data, "secret.key"), f.key, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	n := &node{t: t, name: name, URL: "http://" + addr, DataDir: data, done: make(chan struct{}), model: llmtest.NewServer(t)}
	if f.script != nil {
		f.script(n)
	}
	scriptBackground(n.model)
	n.cmd = exec.Command(os1Bin, "serve")
	n.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"OS1_OLLAMA_URL=off", "OS1_LOG_LEVEL=info", "OS1_STT=off", "OS1_TTS=off",
		"OS1_DATA_DIR=" + data, "OS1_ADDR=" + addr,
		"OS1_DATABASE_URL=" + f.db, "OS1_NATS_URL=" + f.nats.url(), "OS1_NODE_NAME=" + name,
		"OS1_CLUSTER_STALE_AFTER=" + staleAfter, "OS1_CLUSTER_JOB_ACK_WAIT=" + jobAckWait,
		"OS1_LLM_URL=" + n.model.OpenAIBaseURL(), "OS1_LLM_MODEL=" + llmtest.DefaultModel,
	}, extra...)
	n.cmd.Stdout, n.cmd.Stderr = &n.out, &n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("node %s output:\n%s", n.name, n.out.String())
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		if n.exited() {
			t.Fatalf("node %s exited while starting:\n%s", name, n.out.String())
		}
		if resp, err := http.Get(n.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s did not answer /healthz within %v:\n%s", name, startTimeout, n.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if i := strings.Index(n.out.String(), "/#/setup?token="); i >= 0 {
		tok := n.out.String()[i+len("/#/setup?token="):]
		n.SetupToken = strings.Fields(tok)[0]
	}
	if f.key == nil {
		b, err := os.ReadFile(filepath.Join(data, "secret.key"))
		if err != nil {
			t.Fatalf("the first node's secret key: %v", err)
		}
		f.key = b
	}
	return n
}

func (n *node) exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// kill ends the node with SIGKILL, as a power cut would.
func (n *node) kill() {
	n.t.Helper()
	_ = n.cmd.Process.Kill()
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		n.t.Fatalf("node %s did not die of SIGKILL", n.name)
	}
}

func (n *node) stop() {
	if n.exited() {
		return
	}
	_ = n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// The API as these tests see it (docs/api.md).
type (
	message struct {
		ID      string `json:"id"`
		Role    string `json:"role"`
		Content string `json:"content"`
		Status  string `json:"status"`
	}
	conversationView struct {
		Messages []message `json:"messages"`
		Running  bool      `json:"running"`
	}
	apiError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	event struct {
		Type           string    `json:"type"`
		Message        *message  `json:"message"`
		MessageID      string    `json:"message_id"`
		Text           string    `json:"text"`
		ConversationID string    `json:"conversation_id"`
		Error          *apiError `json:"error"`
	}
)

// client is one user on one node.
type client struct {
	t     *testing.T
	base  string
	hc    *http.Client
	csrf  string
	token string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: waitTimeout}}
}

// on is the same user (API token) on another node.
func (c *client) on(n *node) *client {
	return &client{t: c.t, base: n.URL, hc: &http.Client{Timeout: waitTimeout}, token: c.token}
}

func (c *client) request(ctx context.Context, method, path string, in any) *http.Request {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return req
}

// call returns the status and body; out is filled on a 2xx answer. A
// transport error is status 0.
func (c *client) call(method, path string, in, out any) (int, string) {
	resp, err := c.hc.Do(c.request(context.Background(), method, path, in))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

func (c *client) must(method, path string, in, out any) {
	c.t.Helper()
	if st, body := c.call(method, path, in, out); st/100 != 2 {
		c.t.Fatalf("%s %s on %s: HTTP %d: %s", method, path, c.base, st, body)
	}
}

// owner sets up the owner on n and returns a client with an API token.
func owner(t *testing.T, n *node) *client {
	t.Helper()
	if n.SetupToken == "" {
		t.Fatalf("node %s printed no setup link:\n%s", n.name, n.out.String())
	}
	c := newClient(t, n.URL)
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.must(http.MethodPost, "/api/setup", map[string]string{"token": n.SetupToken, "username": "theo",
		"password": "correct horse battery staple", "display_name": "Theo"}, &out)
	c.csrf = out.CSRFToken
	var tok struct {
		Token string `json:"token"`
	}
	c.must(http.MethodPost, "/api/tokens", map[string]string{"name": "cluster e2e"}, &tok)
	return &client{t: t, base: n.URL, hc: &http.Client{Timeout: waitTimeout}, token: tok.Token}
}

func (c *client) waitModel() {
	c.t.Helper()
	eventually(c.t, "the model is connected on "+c.base, func() (bool, string) {
		var st struct {
			Connected bool `json:"connected"`
		}
		code, body := c.call(http.MethodGet, "/api/model", nil, &st)
		return code == http.StatusOK && st.Connected, body
	})
}

func (c *client) newConversation() string {
	c.t.Helper()
	var conv struct {
		ID string `json:"id"`
	}
	c.must(http.MethodPost, "/api/conversations", map[string]string{}, &conv)
	return conv.ID
}

func (c *client) conversation(id string) conversationView {
	c.t.Helper()
	var v conversationView
	c.must(http.MethodGet, "/api/conversations/"+id, nil, &v)
	return v
}

// sse is a turn streamed as server-sent events.
type sse struct {
	t      *testing.T
	status int
	body   string // of an answer that is not a stream
	resp   *http.Response
	sc     *bufio.Scanner
	cancel context.CancelFunc
}

// stream posts a message; the answer may be an error (status, body).
func (c *client) stream(path string, in any) *sse {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	req := c.request(ctx, http.MethodPost, path, in)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		cancel()
		return &sse{t: c.t, body: err.Error()}
	}
	s := &sse{t: c.t, status: resp.StatusCode, resp: resp, cancel: cancel}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		s.body, s.resp = string(b), nil
		return s
	}
	s.sc = bufio.NewScanner(resp.Body)
	s.sc.Buffer(make([]byte, 64<<10), 4<<20)
	c.t.Cleanup(s.close)
	return s
}

func (s *sse) ok() bool { return s.resp != nil }

func (s *sse) next() (event, bool) {
	var ev event
	if s.sc == nil {
		return ev, false
	}
	for s.sc.Scan() {
		data, found := strings.CutPrefix(s.sc.Text(), "data: ")
		if !found {
			continue
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			s.t.Errorf("event is not JSON: %v\n%s", err, data)
			continue
		}
		return ev, true
	}
	return ev, false
}

func (s *sse) rest() []event {
	var evs []event
	for {
		ev, ok := s.next()
		if !ok {
			return evs
		}
		evs = append(evs, ev)
	}
}

func (s *sse) close() {
	if s.resp != nil {
		s.resp.Body.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
}

// tab is a WebSocket that follows all of the user's events (subscribe).
type tab struct {
	t      *testing.T
	conn   *websocket.Conn
	events chan event
	cancel context.CancelFunc
}

func (c *client) tab() *tab {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := http.Header{"Authorization": {"Bearer " + c.token}}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/api/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		cancel()
		c.t.Fatalf("websocket on %s: %v", c.base, err)
	}
	conn.SetReadLimit(16 << 20)
	tb := &tab{t: c.t, conn: conn, events: make(chan event, 4096), cancel: cancel}
	c.t.Cleanup(func() { cancel(); conn.CloseNow() })
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe"}`)); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		defer close(tb.events)
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var ev event
			if json.Unmarshal(data, &ev) == nil {
				tb.events <- ev
			}
		}
	}()
	tb.waitFor("subscribed", "")
	return tb
}

// waitFor returns the events up to and including the first of type typ
// (for conversation conv, when not empty).
func (tb *tab) waitFor(typ, conv string) []event {
	tb.t.Helper()
	var evs []event
	timeout := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-tb.events:
			if !ok {
				tb.t.Fatalf("the tab closed while waiting for %s; saw %s", typ, types(evs))
			}
			evs = append(evs, ev)
			if ev.Type == typ && (conv == "" || ev.ConversationID == conv) {
				return evs
			}
		case <-timeout:
			tb.t.Fatalf("the tab saw no %s within %v; saw %s", typ, waitTimeout, types(evs))
		}
	}
}

func types(evs []event) string {
	var b strings.Builder
	for i, e := range evs {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(e.Type)
	}
	return b.String()
}

// text joins the deltas of message id (any message when id is "").
func text(evs []event, id string) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Type == "delta" && (id == "" || e.MessageID == id) {
			b.WriteString(e.Text)
		}
	}
	return b.String()
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %v; last: %s", what, waitTimeout, detail)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scriptBackground answers os1's background requests (memory extraction,
// journal, titles) apart from the chat replies.
func scriptBackground(m *llmtest.Server) {
	m.Route(func(r llmtest.Request) bool { return strings.Contains(r.System, "deciding what to remember") },
		func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{`{"operations":[]}`}} })
	m.Route(func(r llmtest.Request) bool { return strings.Contains(r.System, "private journal entry") },
		func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"A quiet day."}} })
	m.Route(func(r llmtest.Request) bool { return strings.HasPrefix(r.System, "You write short titles") },
		func(llmtest.Request) llmtest.Reply { return llmtest.Reply{} })
}

func isBackground(r llmtest.Request) bool {
	return strings.Contains(r.System, "deciding what to remember") || strings.Contains(r.System, "private journal entry") ||
		strings.HasPrefix(r.System, "You write short titles")
}
