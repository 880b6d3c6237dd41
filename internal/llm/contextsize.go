package llm

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// ContextSizer is implemented by providers that can ask their server how
// many tokens the model's context window holds.
type ContextSizer interface {
	// ContextSize is the context window of model ("" for the default) in
	// tokens, or 0 with a nil error when the server does not say.
	ContextSize(ctx context.Context, model string) (int, error)
}

var _ ContextSizer = (*OpenAI)(nil)

// ContextSize asks the server behind an OpenAI-compatible URL for the
// model's context window: llama-server's GET /props (n_ctx, the size it was
// started with, -c), then Ollama's POST /api/show (num_ctx when the model
// sets it, else the model's trained context length). Other servers answer
// neither, and the size is 0.
func (p *OpenAI) ContextSize(ctx context.Context, model string) (int, error) {
	if model == "" {
		model = p.cfg.Model
	}
	root := strings.TrimSuffix(p.base, "/v1")
	h := p.header()
	h.Set("Accept", "application/json")
	var props struct {
		NCtx    int `json:"n_ctx"`
		Default struct {
			NCtx int `json:"n_ctx"`
		} `json:"default_generation_settings"`
		ChatTemplate string `json:"chat_template"`
	}
	err := p.ep.getJSON(ctx, root+"/props", h, &props)
	if err == nil {
		if prefillsThink(props.ChatTemplate) {
			p.prefills.LoadOrStore(model, prefillMaybe)
		}
		if n := max(props.Default.NCtx, props.NCtx); n > 0 {
			return n, nil
		}
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	body, _ := json.Marshal(map[string]string{"model": model})
	var show struct {
		ModelInfo  map[string]any `json:"model_info"`
		Parameters string         `json:"parameters"`
	}
	if err := p.ep.fetchJSON(ctx, call{method: http.MethodPost, url: root + "/api/show", header: h, body: body}, &show); err != nil {
		if KindOf(err) == KindBadRequest || KindOf(err) == KindProtocol {
			return 0, nil // a server that has neither endpoint
		}
		return 0, err
	}
	for _, line := range strings.Split(show.Parameters, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "num_ctx" {
			if n, err := strconv.Atoi(f[1]); err == nil && n > 0 {
				return n, nil
			}
		}
	}
	for k, v := range show.ModelInfo {
		if n, ok := v.(float64); ok && strings.HasSuffix(k, ".context_length") && n > 0 {
			return int(n), nil
		}
	}
	return 0, nil
}

// prefillsThink reports whether a chat template's generation prompt (the
// part after its last add_generation_prompt) opens a <think> block it does
// not close: the model's content then starts inside its thinking.
func prefillsThink(template string) bool {
	i := strings.LastIndex(template, "add_generation_prompt")
	if i < 0 {
		return false
	}
	gen := template[i:]
	open := strings.Index(gen, thinkOpen)
	return open >= 0 && !strings.Contains(gen[open:], thinkClose)
}
