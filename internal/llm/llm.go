// Package llm talks to language models over their wire protocols: the
// OpenAI-compatible Chat Completions API (OpenAI, Ollama, llama.cpp server,
// vLLM, LM Studio, OpenRouter) and the Anthropic Messages API, both streamed
// over server-sent events with tool calling.
//
// It uses plain net/http, no vendor SDKs. It must never invent text: every
// event it yields came from a provider, and every failure is an error.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
)

// Role of a message in a request.
type Role string

const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one turn sent to the model. The system prompt is in Request.System.
type Message struct {
	Role       Role
	Content    string
	ToolCalls  []ToolCall // assistant turns that called tools
	ToolCallID string     // tool turns: the call this result answers
	// Images go beside Content in user turns, as the protocol's image
	// content parts, to models that can see (see images.go).
	Images []Image
}

// ToolCall is the model asking to run a tool.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage // a JSON object; "{}" when the model gave none
}

// Tool describes a tool the model may call.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // JSON Schema of the arguments object
}

// Request is one streamed completion.
type Request struct {
	Model       string // empty: the provider's configured default
	System      string
	Messages    []Message
	Tools       []Tool
	MaxTokens   int      // 0: provider default (Anthropic requires one; 1024 is used)
	Temperature *float64 // nil: provider default
}

// EventKind says what an Event carries.
type EventKind int

const (
	// EventText carries a text delta in Text.
	EventText EventKind = iota + 1
	// EventToolCall carries one complete tool call in ToolCall (arguments fully assembled).
	EventToolCall
	// EventUsage carries token counts in Usage.
	EventUsage
	// EventDone is the last event of a successful stream; StopReason says why it ended.
	EventDone
	// EventReasoning carries a delta of the model's thinking in Text: what
	// reasoning models stream before their answer (reasoning_content,
	// reasoning, <think>…</think>, Anthropic thinking blocks). It is never
	// part of the answer: callers must not speak it, store it as the reply or
	// feed it to memory.
	EventReasoning
)

func (k EventKind) String() string {
	switch k {
	case EventText:
		return "text"
	case EventToolCall:
		return "tool_call"
	case EventUsage:
		return "usage"
	case EventDone:
		return "done"
	case EventReasoning:
		return "reasoning"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Usage is token accounting reported by the provider.
type Usage struct {
	InputTokens  int
	OutputTokens int
}

// Event is one item of a completion stream.
type Event struct {
	Kind       EventKind
	Text       string // EventText: the answer; EventReasoning: thinking, never the answer
	ToolCall   *ToolCall
	Usage      *Usage
	StopReason string // "stop", "tool_calls", "length", ... (provider's words normalised to these)

	// Provider is set on EventDone: the Name of the provider that produced
	// the stream. Behind a Fallback it tells which of the two answered.
	Provider string
	// Model is set on EventDone: the model that answered, as the server
	// named it (empty if it did not).
	Model string
}

// Provider streams completions. A stream ends with exactly one EventDone, or
// with a non-nil error (after which nothing more is yielded). Cancelling ctx
// stops the stream promptly and yields ctx's error.
type Provider interface {
	// Name identifies the provider for logs and metrics, e.g. "openai", "anthropic".
	Name() string
	// Model is the default model used when Request.Model is empty.
	Model() string
	Stream(ctx context.Context, req Request) iter.Seq2[Event, error]
}

// ModelLister is implemented by providers that can list their models.
type ModelLister interface {
	Models(ctx context.Context) ([]string, error)
}

// ErrorKind classifies provider failures so callers and metrics can tell them apart.
type ErrorKind string

const (
	KindRateLimited ErrorKind = "rate_limited" // 429 after retries
	KindServer      ErrorKind = "server"       // 5xx after retries
	KindAuth        ErrorKind = "auth"         // 401/403
	KindBadRequest  ErrorKind = "bad_request"  // other 4xx (unknown model, bad tool schema, ...)
	KindTimeout     ErrorKind = "timeout"      // connect or idle timeout
	KindConnection  ErrorKind = "connection"   // refused, reset, dropped mid-stream
	KindProtocol    ErrorKind = "protocol"     // malformed SSE or JSON from the provider
	KindCanceled    ErrorKind = "canceled"     // the caller cancelled
	// KindContextOverflow: the prompt (or prompt and reply) did not fit the
	// model's context window: a 400 such as llama-server's
	// exceed_context_size_error, OpenAI's context_length_exceeded,
	// Anthropic's "prompt is too long", or the same said mid-stream.
	// Retrying the same request never helps; a shorter one may.
	KindContextOverflow ErrorKind = "context_overflow"
	// KindCutOff: the token limit (max_tokens) cut the reply off in the
	// middle of a tool call, so its arguments are not complete JSON.
	// Retrying with a larger limit may help.
	KindCutOff ErrorKind = "cut_off"
)

// Error is a provider failure. Message is written for the user: it says what
// failed, where, and what to do.
type Error struct {
	Kind       ErrorKind
	Provider   string
	StatusCode int           // HTTP status when there was one
	RetryAfter time.Duration // from a 429/503 Retry-After header, if any
	Message    string
	Err        error // underlying cause, may be nil

	// KindContextOverflow only, when the server said (llama-server does):
	// its context size in tokens and the prompt's size in its tokens.
	ContextSize, PromptTokens int
}

func (e *Error) Error() string {
	s := e.Provider + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the ErrorKind of err, or "" if err is not a provider error.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.Canceled) {
		return KindCanceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindTimeout
	}
	return ""
}

// ErrNoProvider is returned when no language model is configured or reachable.
var ErrNoProvider = errors.New("no language model is connected")
