package llmtest

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/llm"
)

// Request is a completion request as the server received it, decoded from
// either protocol into llm's types so one assertion fits both.
//
// Anthropic's turns are unfolded: each tool_result block becomes its own
// RoleTool message, and user text that shares the turn follows as a RoleUser
// message. Tool call arguments are compact JSON.
type Request struct {
	Protocol    string // "openai" or "anthropic"
	Header      http.Header
	Model       string
	System      string // OpenAI: the leading system (or developer) messages, joined by a blank line
	Messages    []llm.Message
	Tools       []llm.Tool
	MaxTokens   int // 0 when the client sent none
	Temperature *float64
	Stream      bool
	Body        []byte // the raw JSON body
}

// Fault is a failure a Reply strikes with.
type Fault int

// Faults a reply can strike with, after Reply.FaultAfter text chunks.
const (
	FaultNone        Fault = iota
	FaultStall             // stop sending, keep the connection open until the client leaves
	FaultDrop              // close the TCP connection without ending the response
	FaultMalformed         // send a chunk that is not valid JSON, then end the response
	FaultStreamError       // send the protocol's in-stream error object (Error, ErrorType)
)

// Reply is one scripted answer. The zero Reply streams an empty text reply
// that ends normally.
type Reply struct {
	// Reasoning are thinking deltas, sent in order before the text, in the
	// form ReasoningAs says.
	Reasoning []string
	// ReasoningAs is how an OpenAI-compatible server sends Reasoning. The
	// Anthropic protocol always sends a thinking block.
	ReasoningAs ReasoningForm
	// Chunks are the text deltas, sent in order.
	Chunks []string
	// ToolCalls are sent after the text, each with its arguments split over
	// several deltas. An empty ID gets the protocol's usual style of id.
	ToolCalls []llm.ToolCall
	// StopReason in llm's words ("stop", "tool_calls", "length"), translated
	// to the protocol's. Empty: "tool_calls" when there are ToolCalls, else "stop".
	StopReason string
	// Usage reported at the end. Nil: 10 input tokens and one output token per
	// reasoning delta, chunk and tool call.
	Usage *llm.Usage
	// Model named in the reply. Empty: the model the request asked for.
	Model string

	// Status, when set, answers with this HTTP status and the protocol's
	// error body instead of a stream.
	Status int
	// RetryAfter is the Retry-After header sent with Status ("2", or an HTTP date).
	RetryAfter string
	// Error is the message of a Status answer or of FaultStreamError.
	// Empty: the status text, or "Overloaded".
	Error string
	// ErrorType is the protocol's error type ("rate_limit_error",
	// "overloaded_error", "server_error", ...). Empty: chosen from Status.
	ErrorType string

	// Body, when set with Status, is sent as the whole JSON error body
	// instead of the protocol's usual one (ContextExceeded uses it).
	Body string

	// Raw, when set, is sent as the whole event-stream body, byte for byte,
	// instead of a body built from the fields above. It is for wire quirks of
	// particular servers.
	Raw string

	// Delay comes before the response headers (time to first byte).
	Delay time.Duration
	// ChunkDelay comes before every delta after the first.
	ChunkDelay time.Duration

	// Fault strikes after FaultAfter text chunks (0: before any text).
	Fault      Fault
	FaultAfter int

	// Hold, when set, pauses the stream after HoldAfter text chunks until
	// Hold.Release is called, the client leaves or the server closes.
	Hold      *Gate
	HoldAfter int
}

// ReasoningForm is a way OpenAI-compatible servers stream a model's thinking.
type ReasoningForm int

const (
	// ReasoningContent is delta.reasoning_content (llama.cpp, vLLM, DeepSeek).
	ReasoningContent ReasoningForm = iota
	// ReasoningField is delta.reasoning (Ollama, OpenRouter).
	ReasoningField
	// ThinkTags is <think>…</think> at the start of delta.content (a server
	// without a reasoning parser), with both tags cut across deltas and the
	// closing tag sharing a delta with the answer.
	ThinkTags
)

// ReasoningForms lists every ReasoningForm, for table tests.
var ReasoningForms = []ReasoningForm{ReasoningContent, ReasoningField, ThinkTags}

func (f ReasoningForm) String() string {
	switch f {
	case ReasoningContent:
		return "reasoning_content"
	case ReasoningField:
		return "reasoning"
	case ThinkTags:
		return "think_tags"
	}
	return "ReasoningForm(" + strconv.Itoa(int(f)) + ")"
}

// Gate pauses scripted streams mid-reply. A test waits on Reached to know a
// stream is paused, does what it must (cancel, kill a process, look at
// state) and calls Release to let the stream finish.
type Gate struct {
	reached, released  chan struct{}
	reachOnce, relOnce sync.Once
}

// NewGate returns a gate that holds every stream that reaches it until Release.
func NewGate() *Gate {
	return &Gate{reached: make(chan struct{}), released: make(chan struct{})}
}

// Reached is closed once a stream has arrived at the gate.
func (g *Gate) Reached() <-chan struct{} { return g.reached }

// Release opens the gate for every stream held at it, now and later.
func (g *Gate) Release() { g.relOnce.Do(func() { close(g.released) }) }

func (g *Gate) reach() { g.reachOnce.Do(func() { close(g.reached) }) }

// protocol is one wire protocol the server speaks.
type protocol interface {
	name() string
	decode(body []byte) (Request, error)
	writeError(w http.ResponseWriter, status int, errType, msg string)
	writeModels(w http.ResponseWriter, names []string)
	stream(out *sseWriter, req Request, r Reply, id int) stream
}

// stream writes one streamed reply in a protocol's format.
type stream interface {
	start()
	reasoning(s string, form ReasoningForm)
	text(s string)
	toolCall(i int, tc llm.ToolCall, argPieces []string)
	end(stop string, u llm.Usage)
	malformed()
	streamError(errType, msg string)
}
