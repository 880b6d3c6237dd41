// Package llmtest is a scripted language model server for tests. It speaks
// the real wire protocols (OpenAI-compatible Chat Completions over SSE, the
// Anthropic Messages API, Ollama's model list), so the code under test is the
// same client code that talks to a real model. Tests queue the replies, can
// inject faults (429s, 5xx, stalls, dropped connections, malformed chunks,
// latency, a gate that holds a stream mid-reply) and read back every request
// the client sent, decoded.
//
// It is a test fixture: it must never be used to answer a person, and it must
// never let a test pass silently when a request arrives that nothing scripted.
package llmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm"
)

// defaultInputTokens is the input usage reported when a Reply sets none.
const defaultInputTokens = 10

// DefaultModel is listed by the model endpoints unless SetModels says otherwise.
const DefaultModel = "llmtest-model:latest"

// Options configures a server started with Start.
type Options struct {
	// Models are listed by /v1/models and /api/tags. Empty: DefaultModel.
	Models []string
	// APIKey, when set, must arrive as a Bearer token or x-api-key on
	// completion requests; without it the server answers 401.
	APIKey string
	// Handler answers completion requests when the queue is empty. Nil: such
	// a request is answered with a 400 that says nothing was scripted (and,
	// under NewServer, fails the test).
	Handler func(Request) Reply
}

// Server is a running scripted model server. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the server's root, e.g. http://127.0.0.1:41234.
	URL string

	hs        *httptest.Server
	t         testing.TB // nil when started with Start
	done      chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	opts    Options
	queue   []func(Request) Reply
	routes  []route
	reqs    []Request
	ctx     contextLimits // context.go
	active  int
	idCount int
}

// NewServer starts a server on a free loopback port and closes it when the
// test ends. A completion request with nothing scripted for it fails t.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", Options{})
	if err != nil {
		t.Fatalf("llmtest: %v", err)
	}
	s.t = t
	t.Cleanup(s.Close)
	return s
}

// Start starts a server listening on addr ("127.0.0.1:0" for a free port)
// without a testing.TB, for a test that runs os1 as a separate process or a
// command that needs a model stand-in. Call Close when done.
func Start(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for the scripted model server: %w", addr, err)
	}
	s := &Server{done: make(chan struct{}), opts: opts}
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.hs.Listener.Close()
	s.hs.Listener = ln
	s.hs.Start()
	s.URL = s.hs.URL
	return s, nil
}

// Close stops the server. Streams that are stalled or held end at once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.hs != nil {
			s.hs.Close()
		}
	})
}

// OpenAIBaseURL is the base URL for an OpenAI-compatible client: URL+"/v1".
func (s *Server) OpenAIBaseURL() string { return s.URL + "/v1" }

// AnthropicBaseURL is the base URL for an Anthropic client: URL.
func (s *Server) AnthropicBaseURL() string { return s.URL }

// OllamaURL is the URL for Ollama discovery (/api/tags): URL.
func (s *Server) OllamaURL() string { return s.URL }

// Enqueue adds replies, answered in order, one per completion request.
func (s *Server) Enqueue(replies ...Reply) {
	for _, r := range replies {
		s.EnqueueFunc(func(Request) Reply { return r })
	}
}

// EnqueueFunc adds a reply computed from the request it answers, so a test
// can look at what the client sent.
func (s *Server) EnqueueFunc(fn func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, fn)
}

type route struct {
	match func(Request) bool
	reply func(Request) Reply
}

// Route answers every request that match accepts with reply, ahead of the
// queue, so background requests (memory extraction, journals) never take a
// reply scripted for the conversation. Routes are tried in the order added.
func (s *Server) Route(match func(Request) bool, reply func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes = append(s.routes, route{match, reply})
}

// Handle sets the handler that answers when the queue is empty.
func (s *Server) Handle(fn func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Handler = fn
}

// SetModels sets the models the listing endpoints report.
func (s *Server) SetModels(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Models = append([]string(nil), names...)
}

// RequireAPIKey makes completion requests without key fail with 401.
func (s *Server) RequireAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.APIKey = key
}

// Requests returns every completion request received so far, in order,
// including those answered with an error status.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Pending is the number of queued replies not yet used.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// ActiveStreams is the number of completion requests being answered now. A
// test that stops reading a stream can wait for it to reach zero to check
// that the client hung up.
func (s *Server) ActiveStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// WaitIdle waits until no completion request is being answered, or ctx ends.
func (s *Server) WaitIdle(ctx context.Context) error {
	for s.ActiveStreams() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("llmtest: %d streams still open: %w", s.ActiveStreams(), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// fail reports a scripting mistake to the test, if there is one.
func (s *Server) fail(format string, args ...any) {
	if s.t != nil {
		s.t.Errorf("llmtest: "+format, args...)
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
		s.complete(w, r, openaiProtocol{})
	case r.Method == http.MethodPost && r.URL.Path == "/v1/messages":
		s.complete(w, r, anthropicProtocol{})
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		var p interface {
			protocol
			writeModels(http.ResponseWriter, []string)
		} = openaiProtocol{}
		if r.Header.Get("Anthropic-Version") != "" {
			p = anthropicProtocol{}
		}
		if !s.authorized(r) {
			p.writeError(w, http.StatusUnauthorized, "", "invalid API key")
			return
		}
		p.writeModels(w, s.models())
	case r.Method == http.MethodGet && r.URL.Path == "/props" && s.contextSizes().llama > 0:
		writeLlamaProps(w, s.contextSizes())
	case r.Method == http.MethodPost && r.URL.Path == "/api/show" && s.contextSizes().ollama > 0:
		writeOllamaShow(w, r, s.contextSizes())
	case r.Method == http.MethodGet && r.URL.Path == "/api/tags":
		writeOllamaTags(w, s.models())
	case r.Method == http.MethodGet && r.URL.Path == "/":
		io.WriteString(w, "Ollama is running")
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"message": fmt.Sprintf("llmtest: no route for %s %s", r.Method, r.URL.Path), "type": "invalid_request_error"}})
	}
}

// authorized checks the API key set by RequireAPIKey, as real servers do on
// both completions and model listings.
func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	key := s.opts.APIKey
	s.mu.Unlock()
	return authorized(r, key)
}

func authorized(r *http.Request, key string) bool {
	return key == "" || r.Header.Get("X-Api-Key") == key || r.Header.Get("Authorization") == "Bearer "+key
}

func (s *Server) models() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.opts.Models) == 0 {
		return []string{DefaultModel}
	}
	return append([]string(nil), s.opts.Models...)
}

// complete answers one completion request from the script.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, p protocol) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	req, err := p.decode(body)
	if err != nil {
		s.fail("cannot decode a %s request: %v\n%s", p.name(), err, body)
		p.writeError(w, http.StatusBadRequest, "", "llmtest: cannot decode the request: "+err.Error())
		return
	}
	req.Protocol, req.Header, req.Body = p.name(), r.Header.Clone(), body

	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	key := s.opts.APIKey
	prompt, over := s.promptTokens(req)
	if over && authorized(r, key) {
		nCtx := s.ctx.llama
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, contextExceededBody(prompt, nCtx))
		return
	}
	var next func(Request) Reply
	for _, rt := range s.routes {
		if rt.match(req) {
			next = rt.reply
			break
		}
	}
	if next == nil && len(s.queue) > 0 {
		next, s.queue = s.queue[0], s.queue[1:]
	} else if next == nil {
		next = s.opts.Handler
	}
	s.active++
	s.idCount++
	id := s.idCount
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()

	if !authorized(r, key) {
		p.writeError(w, http.StatusUnauthorized, "", "invalid API key")
		return
	}
	if next == nil {
		s.fail("a %s request arrived with no reply scripted (last message %q); call Enqueue or Handle", p.name(), lastContent(req))
		p.writeError(w, http.StatusBadRequest, "",
			"llmtest: no reply is scripted for this request; the test must call Server.Enqueue or Server.Handle")
		return
	}
	reply := next(req)
	if reply.Usage == nil && prompt > 0 {
		reply.Usage = &llm.Usage{InputTokens: prompt, OutputTokens: len(reply.Reasoning) + len(reply.Chunks) + len(reply.ToolCalls)}
	}
	s.play(w, r, p, req, reply, id)
}

func lastContent(r Request) string {
	if len(r.Messages) == 0 {
		return ""
	}
	return r.Messages[len(r.Messages)-1].Content
}

// wait sleeps d, and reports false if the client left or the server closed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// play streams reply r in protocol p, striking its faults on the way.
func (s *Server) play(w http.ResponseWriter, hr *http.Request, p protocol, req Request, r Reply, id int) {
	ctx := hr.Context()
	if !s.wait(ctx, r.Delay) {
		return
	}
	if r.Status != 0 {
		if r.RetryAfter != "" {
			w.Header().Set("Retry-After", r.RetryAfter)
		}
		if r.Body != "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(r.Status)
			io.WriteString(w, r.Body)
			return
		}
		msg := r.Error
		if msg == "" {
			msg = http.StatusText(r.Status)
		}
		p.writeError(w, r.Status, r.ErrorType, msg)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	out := &sseWriter{w: w, rc: http.NewResponseController(w)}
	if r.Raw != "" {
		out.raw(r.Raw)
		return
	}
	st := p.stream(out, req, r, id)
	st.start()
	for i, t := range r.Reasoning {
		if i > 0 && !s.wait(ctx, r.ChunkDelay) {
			return
		}
		st.reasoning(t, r.ReasoningAs)
	}
	n := len(r.Chunks)
	for i := 0; i <= n; i++ {
		if r.Hold != nil && i == min(r.HoldAfter, n) && !s.hold(ctx, r.Hold) {
			return
		}
		if r.Fault != FaultNone && i == min(r.FaultAfter, n) {
			s.strike(ctx, w, st, r)
			return
		}
		if i == n {
			break
		}
		if (i > 0 || len(r.Reasoning) > 0) && !s.wait(ctx, r.ChunkDelay) {
			return
		}
		st.text(r.Chunks[i])
	}
	for i, tc := range r.ToolCalls {
		if (n > 0 || i > 0) && !s.wait(ctx, r.ChunkDelay) {
			return
		}
		st.toolCall(i, tc, splitArgs(string(tc.Arguments)))
	}
	stop := r.StopReason
	if stop == "" {
		stop = "stop"
		if len(r.ToolCalls) > 0 {
			stop = "tool_calls"
		}
	}
	usage := llm.Usage{InputTokens: defaultInputTokens, OutputTokens: len(r.Reasoning) + n + len(r.ToolCalls)}
	if r.Usage != nil {
		usage = *r.Usage
	}
	st.end(stop, usage)
}

func (s *Server) hold(ctx context.Context, g *Gate) bool {
	g.reach()
	select {
	case <-g.released:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

func (s *Server) strike(ctx context.Context, w http.ResponseWriter, st stream, r Reply) {
	switch r.Fault {
	case FaultStall:
		select {
		case <-ctx.Done():
		case <-s.done:
		}
	case FaultDrop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			s.fail("cannot drop the connection: %v", err)
			return
		}
		conn.Close()
	case FaultMalformed:
		st.malformed()
	case FaultStreamError:
		st.streamError(r.ErrorType, r.Error)
	}
}

// splitArgs cuts a tool call's arguments into a few deltas, on rune
// boundaries, so the client has to assemble them.
func splitArgs(args string) []string {
	r := []rune(args)
	if len(r) < 4 {
		return []string{args}
	}
	step := (len(r) + 2) / 3
	var out []string
	for i := 0; i < len(r); i += step {
		out = append(out, string(r[i:min(i+step, len(r))]))
	}
	return out
}

// sseWriter writes server-sent events and flushes each one.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// event writes one event; name may be empty. v is JSON-encoded unless it is a string.
func (s *sseWriter) event(name string, v any) {
	var b strings.Builder
	if name != "" {
		b.WriteString("event: " + name + "\n")
	}
	data, ok := v.(string)
	if !ok {
		j, _ := json.Marshal(v)
		data = string(j)
	}
	b.WriteString("data: " + data + "\n\n")
	s.raw(b.String())
}

func (s *sseWriter) raw(text string) {
	io.WriteString(s.w, text)
	s.rc.Flush()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeOllamaTags(w http.ResponseWriter, names []string) {
	models := make([]map[string]any, 0, len(names))
	for _, n := range names {
		models = append(models, map[string]any{
			"name": n, "model": n, "modified_at": "2025-01-01T00:00:00Z", "size": 2019393189,
			"digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
			"details": map[string]any{"parent_model": "", "format": "gguf", "family": "llama",
				"families": []string{"llama"}, "parameter_size": "3.2B", "quantization_level": "Q4_K_M"},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": models})
}
