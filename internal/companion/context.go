package companion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/llm"
)

// The context window: how many tokens a prompt may take. The budget is
// [companion] context_tokens (OS1_CONTEXT_TOKENS), lowered to the server's
// own context size when it says (llama-server /props, Ollama /api/show, or
// an overflow error's n_ctx). Tokens are estimated per character class
// (estimateTokens) and the estimate is calibrated per model from the
// prompt tokens the server reports: a model whose tokenizer makes more
// tokens of the same text gets a larger factor at once, and a smaller one
// only slowly (conservative). All of it is in memory, per process.

// contextBook is what the companion learned about each model's context.
type contextBook struct {
	mu     sync.Mutex
	models map[string]*modelContext
}

type modelContext struct {
	factor  float64 // real tokens per estimated token, ≥ minFactor
	size    int     // the server's context size, 0 when unknown
	probing bool
	probed  chan struct{} // closed when the probe is done
}

const (
	minFactor = 0.8
	maxFactor = 8
	// probeWait bounds how long the first turn of a model waits for the
	// server to say its context size.
	probeWait = 2 * time.Second
)

func (b *contextBook) get(key string) *modelContext {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.models == nil {
		b.models = map[string]*modelContext{}
	}
	m := b.models[key]
	if m == nil {
		m = &modelContext{factor: 1, probed: make(chan struct{})}
		b.models[key] = m
	}
	return m
}

// modelKey names a provider's model for the book.
func modelKey(prov llm.Provider, req llm.Request) string {
	model := req.Model
	if model == "" {
		model = prov.Model()
	}
	base := ""
	if u, ok := prov.(interface{ BaseURL() string }); ok {
		base = u.BaseURL()
	}
	return prov.Name() + " " + base + " " + model
}

// probe asks the server for the model's context size once per process, in
// the background; learnedSize waits for it at most probeWait.
func (c *Companion) probe(prov llm.Provider, key string) {
	m := c.ctxBook.get(key)
	c.ctxBook.mu.Lock()
	start := !m.probing
	m.probing = true
	c.ctxBook.mu.Unlock()
	if !start {
		return
	}
	sizer, ok := prov.(llm.ContextSizer)
	if !ok {
		close(m.probed)
		return
	}
	go func() {
		defer close(m.probed)
		ctx, cancel := context.WithTimeout(c.base, 5*time.Second)
		defer cancel()
		n, err := sizer.ContextSize(ctx, "")
		if err != nil {
			c.log.Debug("model context size unknown", "model", key, "err", err)
			return
		}
		if n > 0 {
			c.ctxBook.mu.Lock()
			if m.size == 0 || n < m.size {
				m.size = n
			}
			c.ctxBook.mu.Unlock()
			c.log.Info("model context size", "model", key, "tokens", n)
		}
	}()
}

// contextFor is the context window for the model (configured, lowered to
// the server's) and the calibration factor, after waiting a little for the
// first probe.
func (c *Companion) contextFor(ctx context.Context, key string) (limit int, factor float64) {
	m := c.ctxBook.get(key)
	select {
	case <-m.probed: // every turn after the model's first: no timer
	default:
		select {
		case <-m.probed:
		case <-ctx.Done():
		case <-c.clock.NewTimer(probeWait).C():
		}
	}
	c.ctxBook.mu.Lock()
	defer c.ctxBook.mu.Unlock()
	limit = c.opts.ContextTokens
	if m.size > 0 && m.size < limit {
		limit = m.size
	}
	return limit, m.factor
}

// observe calibrates the estimate from a call's reported prompt tokens.
func (c *Companion) observe(key string, estimated, reported int) {
	if estimated <= 0 || reported <= 0 {
		return
	}
	m := c.ctxBook.get(key)
	c.ctxBook.mu.Lock()
	defer c.ctxBook.mu.Unlock()
	r := float64(reported) / float64(estimated)
	if r > m.factor {
		m.factor = min(r, maxFactor) // more tokens than thought: believe it at once
	} else {
		m.factor = max(m.factor*0.8+r*0.2, minFactor) // fewer: only slowly
	}
}

// learnOverflow takes what an overflow error said about the server.
func (c *Companion) learnOverflow(key string, err error, estimated int) {
	var le *llm.Error
	if !errors.As(err, &le) {
		return
	}
	if le.ContextSize > 0 {
		m := c.ctxBook.get(key)
		c.ctxBook.mu.Lock()
		if m.size == 0 || le.ContextSize < m.size {
			m.size = le.ContextSize
		}
		c.ctxBook.mu.Unlock()
	}
	c.observe(key, estimated, le.PromptTokens)
}

// promptTokens estimates a whole request: system prompt, messages, tool
// calls and the tool definitions, which count as much as text does.
func promptTokens(req llm.Request) int {
	n := estimateText(req.System) + 4
	for _, m := range req.Messages {
		n += estimateText(m.Content) + 4
		for _, tc := range m.ToolCalls {
			n += estimateText(tc.Name) + estimateText(string(tc.Arguments)) + 4
		}
	}
	return n + toolTokens(req.Tools)
}

// toolTokens estimates the tool definitions as the server sees them.
func toolTokens(tools []llm.Tool) int {
	n := 0
	for _, t := range tools {
		b, _ := json.Marshal(t)
		n += estimateText(string(b)) + 8
	}
	return n
}

// estimateText is a conservative token estimate by character class: a
// token per four letters of a word, but a token per digit, symbol and
// non-Latin character (tokenizers split digits, hex dumps and scripts
// without spaces into many tokens). It runs over the whole history on
// every turn, so ASCII is classed by table, a byte at a time.
func estimateText(s string) int {
	letters, n := 0, 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			i++
			switch asciiClass[b] {
			case classLetter:
				letters++
			case classSpace:
				n += (letters + 3) / 4
				letters = 0
			default: // a digit or a symbol
				n += (letters+3)/4 + 1
				letters = 0
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case unicode.IsSpace(r):
			n += (letters + 3) / 4
			letters = 0
		case unicode.IsLetter(r) && r < 0x250: // Latin with accents
			letters++
		default:
			n += (letters+3)/4 + 1
			letters = 0
		}
	}
	return n + (letters+3)/4
}

const (
	classOther = iota
	classLetter
	classSpace
)

// asciiClass is unicode.IsLetter and unicode.IsSpace for ASCII.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for b := range t {
		switch r := rune(b); {
		case unicode.IsLetter(r):
			t[b] = classLetter
		case unicode.IsSpace(r):
			t[b] = classSpace
		}
	}
	return t
}()

// shrinkRequest cuts req down to about target estimated tokens: oldest
// history first (the newest message always stays), then the longest
// message is shortened. Tool results stay with their calls.
func shrinkRequest(req llm.Request, target int) llm.Request {
	out := req
	msgs := append([]llm.Message(nil), req.Messages...)
	for promptTokens(llm.Request{System: req.System, Messages: msgs, Tools: req.Tools}) > target && len(msgs) > 1 {
		// Drop the oldest unit: a message and the tool results after it.
		k := 1
		for k < len(msgs)-1 && msgs[k].Role == llm.RoleTool {
			k++
		}
		if k >= len(msgs) {
			break
		}
		msgs = msgs[k:]
	}
	for len(msgs) > 0 && msgs[0].Role != llm.RoleUser && len(msgs) > 1 {
		msgs = msgs[1:] // a history starts with the user
	}
	over := promptTokens(llm.Request{System: req.System, Messages: msgs, Tools: req.Tools}) - target
	if over > 0 {
		longest := 0
		for i, m := range msgs {
			if len(m.Content) > len(msgs[longest].Content) {
				longest = i
			}
		}
		m := msgs[longest]
		keep := estimateText(m.Content) - over
		m.Content = cutTokens(m.Content, max(keep, 0)) + truncatedNote
		msgs[longest] = m
	}
	out.Messages = msgs
	return out
}

// cutTokens keeps the start of s that is estimated at most n tokens.
func cutTokens(s string, n int) string {
	lo, hi := 0, len(s)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if estimateText(cutUTF8(s, mid)) <= n {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return cutUTF8(s, lo)
}

// promptBudget is the history's share of the context, in estimated tokens:
// the window (configured or the server's, whichever is smaller) less the
// reply, the system prompt and the tools, divided by the model's factor.
func (c *Companion) promptBudget(ctx context.Context, system string, toolToks int) int {
	limit, factor := c.opts.ContextTokens, 1.0
	if key, ok := ctx.Value(modelKeyCtx{}).(string); ok {
		limit, factor = c.contextFor(ctx, key)
	}
	budget := int(float64(limit-c.opts.MaxReplyTokens)/factor) - estimateText(system) - toolToks
	return max(budget, 256)
}

// modelKeyCtx carries the model key of a turn's round to request().
type modelKeyCtx struct{}

// adviceError is a model failure with what the user can change.
type adviceError struct {
	err    error
	advice string
}

func (e *adviceError) Error() string { return e.advice + " (" + e.err.Error() + ")" }
func (e *adviceError) Unwrap() error { return e.err }

// overflowAdvice says what to change when a prompt still did not fit
// after os1 shortened it.
func (c *Companion) overflowAdvice(key string, err error) error {
	m := c.ctxBook.get(key)
	c.ctxBook.mu.Lock()
	size := m.size
	c.ctxBook.mu.Unlock()
	server := "the model server's context size"
	if size > 0 {
		server = fmt.Sprintf("the model server's context size (%d tokens)", size)
	}
	return &adviceError{err: err, advice: fmt.Sprintf("os1 shortened the conversation and tried again, and it still did not fit. "+
		"Start the model server with a larger context (llama-server -c 16384), or set [companion] context_tokens in the config "+
		"(or OS1_CONTEXT_TOKENS) to at most %s; the system prompt, tools and reply (max_reply_tokens %d) count too.", server, c.opts.MaxReplyTokens)}
}

// cutOffAdvice says what to change when a tool call was cut off twice.
func (c *Companion) cutOffAdvice(err error, limit int) error {
	return &adviceError{err: err, advice: fmt.Sprintf("The model's reply was cut off in the middle of a tool call, even with a limit of %d tokens. "+
		"Raise [companion] max_reply_tokens in the config.", limit)}
}
