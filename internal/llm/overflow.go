package llm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// overflowWords are what servers say when a request does not fit the
// model's context window, in their error types, codes and messages
// (lower case): llama-server, OpenAI, vLLM, Anthropic, LM Studio.
var overflowWords = []string{
	"exceed_context_size",                // llama-server's type
	"context_length_exceeded",            // OpenAI's code
	"exceeds the available context",      // llama-server's message
	"context size has been exceeded",     // llama-server, mid-stream
	"maximum context length",             // OpenAI, vLLM
	"prompt is too long",                 // Anthropic
	"exceeds the context window",         // several
	"context window exceeded",            // several
	"greater than the context length",    // LM Studio, Ollama
	"is longer than the model's context", // vLLM
}

// isOverflow reports whether a server's error words mean the request did
// not fit the context window.
func isOverflow(kind, message string) bool {
	s := strings.ToLower(kind + " " + message)
	for _, w := range overflowWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// Sizes in the servers' messages: llama-server "request (24566 tokens)
// exceeds the available context size (8192 tokens)", Anthropic "prompt is
// too long: 210000 tokens > 200000 maximum", OpenAI "maximum context length
// is 8192 tokens. However, your messages resulted in 9000 tokens".
var (
	llamaSizes     = regexp.MustCompile(`\((\d+) tokens\) exceeds the available context size \((\d+) tokens\)`)
	anthropicSizes = regexp.MustCompile(`prompt is too long: (\d+) tokens > (\d+)`)
	openaiSizes    = regexp.MustCompile(`maximum context length is (\d+) tokens.*?resulted in (\d+) tokens`)
)

// overflowSizes reads the context size and the prompt's tokens from an
// error body or message; zeros when the server did not say.
func overflowSizes(body []byte, message string) (ctxSize, prompt int) {
	var v struct {
		Error struct {
			NPromptTokens int `json:"n_prompt_tokens"`
			NCtx          int `json:"n_ctx"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil && v.Error.NCtx > 0 {
		return v.Error.NCtx, v.Error.NPromptTokens
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if m := llamaSizes.FindStringSubmatch(message); m != nil {
		return atoi(m[2]), atoi(m[1])
	}
	if m := anthropicSizes.FindStringSubmatch(message); m != nil {
		return atoi(m[2]), atoi(m[1])
	}
	if m := openaiSizes.FindStringSubmatch(message); m != nil {
		return atoi(m[1]), atoi(m[2])
	}
	return 0, 0
}

// overflowFailure turns f (a status or stream failure whose words mean a
// context overflow) into one that says so. Repeating the same request never
// helps, so it is not retried here; the caller may send a shorter one.
func (e *endpoint) overflowFailure(f *failure, body []byte) *failure {
	f.kind, f.retryable, f.hasRetryAfter = KindContextOverflow, false, false
	f.ctxSize, f.promptTokens = overflowSizes(body, f.detail)
	what := "the request does not fit the model's context window"
	switch {
	case f.ctxSize > 0 && f.promptTokens > 0:
		what += fmt.Sprintf(" (%d tokens; it holds %d)", f.promptTokens, f.ctxSize)
	case f.ctxSize > 0:
		what += fmt.Sprintf(" (it holds %d tokens)", f.ctxSize)
	}
	f.msg = fmt.Sprintf("%s says %s", e.where, what)
	if f.detail != "" {
		f.msg += ": " + f.detail
	}
	f.hint = "send less text, or give the model a larger context (llama-server -c)"
	return f
}

// cutOffFailure is a tool call whose arguments the token limit cut short.
func (e *endpoint) cutOffFailure(name, args string) *failure {
	return &failure{kind: KindCutOff,
		msg: fmt.Sprintf("the reply from %s was cut off by the token limit in the middle of a call to tool %q (%d characters of arguments)",
			e.where, name, len(args)),
		hint: "raise the reply's token limit"}
}
