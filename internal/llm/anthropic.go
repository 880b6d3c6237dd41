package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/os1ai/os1/internal/httpretry"
)

// Defaults for AnthropicConfig.
const (
	DefaultAnthropicURL       = "https://api.anthropic.com"
	DefaultAnthropicModel     = "claude-sonnet-4-5"
	DefaultAnthropicVersion   = "2023-06-01"
	DefaultAnthropicMaxTokens = 1024
)

// AnthropicConfig configures a provider for the Anthropic Messages API.
type AnthropicConfig struct {
	// BaseURL is the API root that /v1/messages hangs off. Empty:
	// DefaultAnthropicURL. A trailing slash is fine.
	BaseURL string
	// APIKey is sent as x-api-key.
	APIKey string
	// Model is used when Request.Model is empty. Empty: DefaultAnthropicModel.
	Model string
	// Version is the anthropic-version header. Empty: DefaultAnthropicVersion.
	Version string
	// Name is what Name returns. Empty: "anthropic".
	Name string
	Transport
}

// Anthropic streams completions from the Anthropic Messages API.
type Anthropic struct {
	cfg  AnthropicConfig
	base string
	ep   endpoint
}

var (
	_ Provider    = (*Anthropic)(nil)
	_ ModelLister = (*Anthropic)(nil)
)

// NewAnthropic returns a provider for the Anthropic API in cfg. It does not
// contact the server.
func NewAnthropic(cfg AnthropicConfig) *Anthropic {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultAnthropicURL
	}
	if cfg.Model == "" {
		cfg.Model = DefaultAnthropicModel
	}
	if cfg.Version == "" {
		cfg.Version = DefaultAnthropicVersion
	}
	if cfg.Name == "" {
		cfg.Name = "anthropic"
	}
	cfg.Transport = cfg.Transport.withDefaults()
	base := strings.TrimRight(cfg.BaseURL, "/")
	return &Anthropic{cfg: cfg, base: base, ep: endpoint{
		name:  cfg.Name,
		where: "Anthropic API at " + base,
		tr:    cfg.Transport,
	}}
}

// Name reports the configured name, "anthropic" by default.
func (p *Anthropic) Name() string { return p.cfg.Name }

// Model is the default model.
func (p *Anthropic) Model() string { return p.cfg.Model }

// BaseURL is the API root requests go to, without a trailing slash.
func (p *Anthropic) BaseURL() string { return p.base }

func (p *Anthropic) header() http.Header {
	h := http.Header{
		"Accept":            {"text/event-stream"},
		"Content-Type":      {"application/json"},
		"Anthropic-Version": {p.cfg.Version},
	}
	if p.cfg.APIKey != "" {
		h.Set("X-Api-Key", p.cfg.APIKey)
	}
	return h
}

// Stream sends req to POST {BaseURL}/v1/messages and yields the reply as it
// arrives. See Provider for the stream's guarantees.
func (p *Anthropic) Stream(ctx context.Context, req Request) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		body, err := json.Marshal(p.encode(req))
		if err != nil {
			yield(Event{}, &Error{Kind: KindBadRequest, Provider: p.Name(), Err: err,
				Message: "cannot encode the request; a tool's parameters or a tool call's arguments are not valid JSON"})
			return
		}
		c := call{method: http.MethodPost, url: p.base + "/v1/messages", header: p.header(), body: body}
		p.ep.stream(ctx, c, p.decode, yield)
	}
}

// Models lists the available models via GET {BaseURL}/v1/models, following
// pagination.
func (p *Anthropic) Models(ctx context.Context) ([]string, error) {
	h := p.header()
	h.Set("Accept", "application/json")
	var ids []string
	after := ""
	for range 20 { // 20 pages of 1000 is far more models than exist
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			HasMore bool   `json:"has_more"`
			LastID  string `json:"last_id"`
		}
		u := p.base + "/v1/models?limit=1000"
		if after != "" {
			u += "&after_id=" + url.QueryEscape(after)
		}
		if err := p.ep.getJSON(ctx, u, h, &page); err != nil {
			return nil, err
		}
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if !page.HasMore || page.LastID == "" || page.LastID == after {
			break
		}
		after = page.LastID
	}
	return ids, nil
}

type anRequest struct {
	Model       string      `json:"model"`
	MaxTokens   int         `json:"max_tokens"`
	System      string      `json:"system,omitempty"`
	Messages    []anMessage `json:"messages"`
	Tools       []anTool    `json:"tools,omitempty"`
	Stream      bool        `json:"stream"`
	Temperature *float64    `json:"temperature,omitempty"`
}

type anMessage struct {
	Role    string    `json:"role"`
	Content []anBlock `json:"content"`
}

type anBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   *string         `json:"content,omitempty"`
	Source    *anImageSource  `json:"source,omitempty"` // image blocks (images.go)
}

type anTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

func (p *Anthropic) encode(req Request) anRequest {
	r := anRequest{Model: req.Model, MaxTokens: req.MaxTokens, System: req.System,
		Stream: true, Temperature: req.Temperature, Messages: []anMessage{}}
	if r.Model == "" {
		r.Model = p.cfg.Model
	}
	if r.MaxTokens <= 0 {
		r.MaxTokens = DefaultAnthropicMaxTokens
	}
	for _, m := range req.Messages {
		role, blocks := "user", []anBlock(nil)
		switch m.Role {
		case RoleTool:
			content := m.Content
			blocks = append(blocks, anBlock{Type: "tool_result", ToolUseID: m.ToolCallID, Content: &content})
		case RoleAssistant:
			role = "assistant"
			if m.Content != "" {
				blocks = append(blocks, anBlock{Type: "text", Text: m.Content})
			}
			for _, tc := range m.ToolCalls {
				blocks = append(blocks, anBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: argsOrEmpty(tc.Arguments)})
			}
		default:
			blocks = append(blocks, anImageBlocks(m.Images)...)
			if m.Content != "" {
				blocks = append(blocks, anBlock{Type: "text", Text: m.Content})
			}
		}
		if len(blocks) == 0 {
			continue // the API rejects empty turns, and an empty turn says nothing
		}
		// Turns alternate: tool results travel in one user turn, together
		// with any user text that follows them.
		if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == role {
			r.Messages[n-1].Content = append(r.Messages[n-1].Content, blocks...)
			continue
		}
		r.Messages = append(r.Messages, anMessage{Role: role, Content: blocks})
	}
	for _, t := range req.Tools {
		schema := t.Parameters
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		r.Tools = append(r.Tools, anTool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	return r
}

// anEvent is the union of the stream's event payloads that this package reads.
type anEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		Model string  `json:"model"`
		Usage anUsage `json:"usage"`
	} `json:"message"`
	ContentBlock *struct {
		Type     string          `json:"type"`
		Thinking string          `json:"thinking"`
		ID       string          `json:"id"`
		Name     string          `json:"name"`
		Input    json.RawMessage `json:"input"`
	} `json:"content_block"`
	Delta *anDelta `json:"delta"`
	Usage *anUsage `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type anDelta struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Thinking    string `json:"thinking"`
	PartialJSON string `json:"partial_json"`
	StopReason  string `json:"stop_reason"`
}

type anUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

func (u anUsage) input() int {
	return u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
}

// anStopReasons normalises stop_reason to the words of Event.StopReason.
var anStopReasons = map[string]string{
	"end_turn":      "stop",
	"stop_sequence": "stop",
	"tool_use":      "tool_calls",
	"max_tokens":    "length",
}

func (p *Anthropic) decode(events *sseReader, emit func(Event) error) error {
	var (
		usage   Usage
		sawUse  bool
		model   string
		stop    string
		tools   = map[int]*partialCall{}
		started bool
		// cut is a tool call whose arguments ended as invalid JSON, and
		// cutFailure what that is when the token limit was not the cause.
		cut        *partialCall
		cutFailure *failure
		fast       anEventDecoder
	)
	for {
		ev, err := events.nextShared()
		if err == io.EOF {
			return p.ep.truncatedFailure()
		}
		if err != nil {
			if isLineTooLong(err) {
				return p.ep.protocolFailure("a stream event too large to read", err)
			}
			return err
		}
		e := fast.decode(ev.data)
		if e == nil {
			e = &anEvent{}
			if err := json.Unmarshal(ev.data, e); err != nil {
				return p.ep.protocolFailure(fmt.Sprintf("a malformed %q event %q", ev.name, clip(string(ev.data), 120)), err)
			}
		}
		if e.Type == "" {
			e.Type = ev.name
		}
		switch e.Type {
		case "message_start":
			started = true
			if e.Message != nil {
				model = e.Message.Model
				usage.InputTokens = e.Message.Usage.input()
				usage.OutputTokens = e.Message.Usage.OutputTokens
				sawUse = true
			}
		case "content_block_start":
			if b := e.ContentBlock; b != nil && b.Type == "thinking" {
				if err := emitNonEmpty(EventReasoning, b.Thinking, emit); err != nil {
					return err
				}
			}
			if b := e.ContentBlock; b != nil && b.Type == "tool_use" {
				pc := &partialCall{id: b.ID, name: b.Name}
				if in := strings.TrimSpace(string(b.Input)); in != "" && in != "{}" {
					pc.args.WriteString(in) // a server that sends the input whole
				}
				tools[e.Index] = pc
			}
		case "content_block_delta":
			if e.Delta == nil {
				continue
			}
			switch e.Delta.Type {
			case "text_delta":
				if e.Delta.Text != "" {
					if err := emit(Event{Kind: EventText, Text: e.Delta.Text}); err != nil {
						return err
					}
				}
			case "thinking_delta":
				if err := emitNonEmpty(EventReasoning, e.Delta.Thinking, emit); err != nil {
					return err
				}
			case "input_json_delta":
				if pc := tools[e.Index]; pc != nil {
					pc.args.WriteString(e.Delta.PartialJSON)
				}
			} // signature deltas and redacted thinking carry nothing readable
		case "content_block_stop":
			pc := tools[e.Index]
			if pc == nil {
				continue
			}
			delete(tools, e.Index)
			tc, f := completeCall(&p.ep, pc.id, pc.name, pc.args.String())
			if f != nil {
				// Whether the token limit cut it is said after the block
				// (message_delta's stop_reason "max_tokens").
				if cut == nil {
					cut, cutFailure = pc, f
				}
				continue
			}
			if err := emit(Event{Kind: EventToolCall, ToolCall: tc}); err != nil {
				return err
			}
		case "message_delta":
			if e.Delta != nil && e.Delta.StopReason != "" {
				stop = e.Delta.StopReason
			}
			if e.Usage != nil {
				sawUse = true
				usage.OutputTokens = e.Usage.OutputTokens
				if in := e.Usage.input(); in > 0 {
					usage.InputTokens = in
				}
			}
		case "message_stop":
			if !started {
				return p.ep.protocolFailure("message_stop without message_start", nil)
			}
			if cut != nil {
				if stop == "max_tokens" {
					return p.ep.cutOffFailure(cut.name, cut.args.String())
				}
				return cutFailure
			}
			// A tool block left open is still a call the model made.
			for _, i := range slices.Sorted(maps.Keys(tools)) {
				pc := tools[i]
				tc, f := completeCall(&p.ep, pc.id, pc.name, pc.args.String())
				if f != nil && stop == "max_tokens" {
					return p.ep.cutOffFailure(pc.name, pc.args.String())
				}
				if f != nil {
					return f
				}
				if err := emit(Event{Kind: EventToolCall, ToolCall: tc}); err != nil {
					return err
				}
			}
			if sawUse {
				u := usage
				if err := emit(Event{Kind: EventUsage, Usage: &u}); err != nil {
					return err
				}
			}
			reason := anStopReasons[stop]
			if reason == "" {
				reason = stop
			}
			if reason == "" {
				reason = "stop"
			}
			return emit(Event{Kind: EventDone, StopReason: reason, Provider: p.Name(), Model: model})
		case "error":
			if e.Error == nil {
				return p.ep.streamFailure("", "")
			}
			return p.ep.streamFailure(e.Error.Type, httpretry.OneLine(e.Error.Message))
		} // ping and event types added later are ignored, as the API asks
	}
}
