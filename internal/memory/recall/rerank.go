package recall

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/memory"
)

// Recall with a model ([memory] rerank = "model", off by default).
//
// The Reranker wraps the plain ranking (a memory.Searcher: the Recaller) for
// the prompt slot and the recall tool. For each query it takes the top
// RerankOptions.Candidates hits and asks the connected chat model, in ONE
// short call without tools, for two things as JSON: the question rewritten
// as search words ("when did Rosa…" → names and things, no pronouns) and the
// numbers of the candidates that help answer it, best first.
//
// The answer is used like this:
//
//  1. The candidates the model picked come first, in its order.
//  2. The rest follows, fused by reciprocal rank from two lists: the plain
//     ranking's remaining candidates, and a second plain recall of the
//     model's search words (local, no model call), which may bring hits the
//     first query missed.
//
// Any failure falls back to the plain ranking, unchanged: no model
// connected, an error, the time budget (RerankOptions.Budget) running out,
// or an answer that is not JSON, names no candidate, or has more invalid
// numbers (unknown, duplicated) than valid ones. An answer with a few
// invalid numbers keeps its valid ones, in order; a search query alone
// (no valid numbers) is not enough.
//
// The call's cost is what the server reports (llm.Usage), counted on the
// Meter ("rerank_input_tokens", "rerank_output_tokens"), logged at debug
// and returned by RecallReport. The model's own status is never marked
// down by the budget: the call is cancelled, not timed out.

// Defaults of RerankOptions.
const (
	DefaultRerankBudget     = 1500 * time.Millisecond
	DefaultRerankCandidates = 50
	DefaultRerankTextRunes  = 160
	DefaultRerankMaxTokens  = 200
)

// Fallback reasons of a RerankReport.
const (
	RerankNoModel   = "no_model"  // no model is connected
	RerankTimeout   = "timeout"   // the budget ran out
	RerankError     = "error"     // the call failed
	RerankMalformed = "malformed" // the answer was not usable
)

// ModelSource is the connected chat model; *models.Manager implements it.
type ModelSource interface {
	Provider(ctx context.Context) (llm.Provider, error)
}

// RerankOptions tune the Reranker; zero values take the defaults.
type RerankOptions struct {
	// Budget is how long the model call may take before the plain ranking is
	// used (default 1.5 s: the prompt slot has 2 s in all).
	Budget time.Duration
	// Candidates is how many of the plain ranking the model sees (default 50).
	Candidates int
	// TextRunes cuts each candidate's text sent to the model (default 160).
	TextRunes int
	// MaxTokens caps the model's answer (default 200).
	MaxTokens int
	// PromptKinds are what RecallForPrompt draws on; default items and
	// journals, like Options.PromptKinds.
	PromptKinds []memory.DocKind
	Meter       memory.Meter // nil: not counted
	Log         *slog.Logger // nil: discard
}

// RerankReport says what one re-ranked recall did and cost.
type RerankReport struct {
	// Used is true when the model's order was used.
	Used bool `json:"used"`
	// Fallback says why the plain ranking was used instead ("" when Used,
	// or when there was nothing to rank).
	Fallback string `json:"fallback,omitempty"`
	// Query is the model's search words ("" when it gave none).
	Query string `json:"query,omitempty"`
	// Picked are the valid candidates the model listed; Invalid the unknown
	// or repeated numbers it also listed.
	Picked  int `json:"picked"`
	Invalid int `json:"invalid"`
	// Candidates is how many candidates the model was shown.
	Candidates int `json:"candidates"`
	// InputTokens and OutputTokens are the usage the server reported.
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	// Took is the model call's time on the clock.
	Took time.Duration `json:"took_ns"`
}

// Reranker is recall re-ranked by the chat model. It implements
// memory.Searcher (the recall tool) and PromptRecaller (the prompt slot).
type Reranker struct {
	base   memory.Searcher
	models ModelSource
	clock  clock.Clock
	opts   RerankOptions
	log    *slog.Logger
}

var (
	_ PromptRecaller  = (*Reranker)(nil)
	_ memory.Searcher = (*Reranker)(nil)
)

// NewReranker wraps base (the plain ranking) with the model from models.
func NewReranker(base memory.Searcher, models ModelSource, c clock.Clock, opts RerankOptions) *Reranker {
	if opts.Budget <= 0 {
		opts.Budget = DefaultRerankBudget
	}
	if opts.Candidates <= 0 {
		opts.Candidates = DefaultRerankCandidates
	}
	if opts.TextRunes <= 0 {
		opts.TextRunes = DefaultRerankTextRunes
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = DefaultRerankMaxTokens
	}
	if len(opts.PromptKinds) == 0 {
		opts.PromptKinds = DefaultOptions().PromptKinds
	}
	if c == nil {
		c = clock.System{}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reranker{base: base, models: models, clock: c, opts: opts, log: log}
}

// Recall is the plain recall of q re-ranked by the model (see the top of
// this file), at most q.Limit hits (default 10).
func (r *Reranker) Recall(ctx context.Context, userID string, q memory.Query, loc *time.Location) ([]memory.Hit, error) {
	hits, _, err := r.RecallReport(ctx, userID, q, loc)
	return hits, err
}

// RecallReport is Recall that also says what the model call did and cost.
// Only the plain recall's errors are returned: the model's fall back.
func (r *Reranker) RecallReport(ctx context.Context, userID string, q memory.Query, loc *time.Location) ([]memory.Hit, RerankReport, error) {
	if q.Limit <= 0 {
		q.Limit = 10
	}
	limit := q.Limit
	wide := q
	wide.Limit = max(limit, r.opts.Candidates)
	plain, err := r.base.Recall(ctx, userID, wide, loc)
	if err != nil || len(plain) == 0 {
		return plain, RerankReport{}, err
	}
	cands := plain[:min(len(plain), r.opts.Candidates)]
	ans, rep := r.ask(ctx, q.Text, cands, loc)
	r.record(rep)
	if !rep.Used {
		return plain[:min(len(plain), limit)], rep, nil
	}
	var again []memory.Hit
	if ans.query != "" && normalizeWords(ans.query) != normalizeWords(q.Text) {
		rq := wide
		rq.Text = ans.query
		// A failure here only means no second list.
		again, _ = r.base.Recall(ctx, userID, rq, loc)
	}
	return merge(cands, plain[len(cands):], ans.picks, again, limit), rep, nil
}

// RecallForPrompt is Recaller.RecallForPrompt over the re-ranked list.
func (r *Reranker) RecallForPrompt(ctx context.Context, userID, latest string, tokenBudget int, loc *time.Location) (string, []memory.Hit, error) {
	if tokenBudget <= 0 || strings.TrimSpace(latest) == "" {
		return "", nil, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	hits, _, err := r.RecallReport(ctx, userID, memory.Query{Text: latest, Limit: promptCandidate, Kinds: r.opts.PromptKinds}, loc)
	if err != nil {
		return "", nil, err
	}
	text, used := promptText(hits, tokenBudget, loc)
	return text, used, nil
}

// promptText is the prompt slot's cut of hits (Recaller.RecallForPrompt's):
// dated lines, best first, within tokenBudget at bytesPerToken.
func promptText(hits []memory.Hit, tokenBudget int, loc *time.Location) (string, []memory.Hit) {
	budget := tokenBudget * bytesPerToken
	var b strings.Builder
	var used []memory.Hit
	for _, h := range hits {
		line := promptLine(h, loc)
		if b.Len()+len(line)+1 > budget {
			continue // a shorter one further down may still fit
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
		used = append(used, h)
	}
	return b.String(), used
}

// merge orders the re-ranked list: the model's picks (indexes into cands)
// first, then the other candidates and the rest of the plain ranking
// (plainRest) fused by reciprocal rank with the model's query's hits.
func merge(cands, plainRest []memory.Hit, picks []int, again []memory.Hit, limit int) []memory.Hit {
	key := func(h memory.Hit) string { return string(h.Kind) + "\x00" + h.ID }
	out := make([]memory.Hit, 0, limit)
	seen := map[string]bool{}
	for _, i := range picks {
		if len(out) == limit {
			return out
		}
		out = append(out, cands[i])
		seen[key(cands[i])] = true
	}
	var rest []memory.Hit
	for _, h := range append(append([]memory.Hit(nil), cands...), plainRest...) {
		if !seen[key(h)] {
			rest = append(rest, h)
		}
	}
	type acc struct {
		hit   memory.Hit
		score float64
	}
	byKey := map[string]*acc{}
	var order []*acc
	for _, list := range [][]memory.Hit{rest, again} {
		rank := 0
		for _, h := range list {
			k := key(h)
			if seen[k] || len(h.Sources) == 0 {
				continue
			}
			rank++
			a := byKey[k]
			if a == nil {
				a = &acc{hit: h}
				byKey[k] = a
				order = append(order, a)
			}
			a.score += 1 / (10 + float64(rank))
		}
	}
	// Stable: ties keep the plain ranking's order.
	slices.SortStableFunc(order, func(a, b *acc) int { return cmp.Compare(b.score, a.score) })
	for _, a := range order {
		if len(out) == limit {
			break
		}
		out = append(out, a.hit)
	}
	return out
}

// answer is the usable part of the model's reply.
type answer struct {
	query string
	picks []int // indexes into the candidates, best first
}

// rerankSystem is the re-ranking call's instructions.
const rerankSystem = "You rank search results from a person's memory archive: things they said, " +
	"what was remembered about them, and journal notes. Reply with JSON only, no other text: " +
	`{"query": "...", "ids": [...]}. ` +
	`"query" is the question rewritten as search words: the names, things, places and times it is about, ` +
	"with pronouns replaced by who or what they mean, and without question words. " +
	`"ids" are the numbers of the results that help answer the question, best first, at most 20; ` +
	"leave out the rest."

// ask makes the model call within the budget and reads its answer.
func (r *Reranker) ask(ctx context.Context, question string, cands []memory.Hit, loc *time.Location) (answer, RerankReport) {
	rep := RerankReport{Candidates: len(cands)}
	if r.models == nil {
		rep.Fallback = RerankNoModel
		return answer{}, rep
	}
	p, err := r.models.Provider(ctx)
	if err != nil {
		rep.Fallback = RerankNoModel
		return answer{}, rep
	}
	// The call is cancelled (not timed out) at the budget or when ctx ends,
	// so the model's status does not call it unreachable for that.
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	var late atomic.Bool
	timer := r.clock.AfterFunc(r.opts.Budget, func() { late.Store(true); cancel() })
	defer timer.Stop()

	zero := 0.0
	req := llm.Request{System: rerankSystem, MaxTokens: r.opts.MaxTokens, Temperature: &zero,
		Messages: []llm.Message{{Role: llm.RoleUser, Content: rerankPrompt(question, cands, r.opts.TextRunes, loc)}}}
	start := r.clock.Now()
	var text strings.Builder
	var callErr error
	for ev, err := range p.Stream(cctx, req) {
		if err != nil {
			callErr = err
			break
		}
		switch ev.Kind {
		case llm.EventText:
			text.WriteString(ev.Text)
		case llm.EventUsage:
			rep.InputTokens += ev.Usage.InputTokens
			rep.OutputTokens += ev.Usage.OutputTokens
		}
	}
	rep.Took = r.clock.Now().Sub(start)
	switch {
	case late.Load() || ctx.Err() != nil:
		rep.Fallback = RerankTimeout
		return answer{}, rep
	case callErr != nil:
		rep.Fallback = RerankError
		r.log.Debug("memory rerank: the model call failed", "err", callErr)
		return answer{}, rep
	}
	ans, invalid, err := parseAnswer(text.String(), len(cands))
	rep.Query, rep.Picked, rep.Invalid = ans.query, len(ans.picks), invalid
	if err != nil {
		rep.Fallback = RerankMalformed
		r.log.Debug("memory rerank: the answer is not usable", "err", err, "bytes", text.Len())
		return answer{}, rep
	}
	rep.Used = true
	return ans, rep
}

// rerankPrompt lists the question and the numbered candidates, each on one
// line with its date and kind, cut to textRunes.
func rerankPrompt(question string, cands []memory.Hit, textRunes int, loc *time.Location) string {
	var b strings.Builder
	b.WriteString("Question: ")
	b.WriteString(memory.SingleLine(question))
	b.WriteString("\n\nResults:\n")
	for i, h := range cands {
		what := "said"
		switch {
		case h.Item != nil:
			what = string(h.Item.Kind)
		case h.Kind == memory.DocJournal:
			what = "journal"
		}
		fmt.Fprintf(&b, "%d. [%s %s] %s\n", i+1, promptDay(h.Time, loc), what,
			memory.ClipRunes(memory.SingleLine(h.Text), textRunes))
	}
	return b.String()
}

// errUnusable says why an answer was not used.
var errUnusable = errors.New("unusable answer")

// parseAnswer reads {"query": "...", "ids": [...]} (or a bare list of ids)
// from the model's text, tolerating a code fence or words around it. Ids
// are the 1-based numbers of the n candidates, as numbers or strings. It
// returns the valid picks in order and how many ids were unknown or
// repeated; the answer is unusable when it has no valid pick or more
// invalid ids than valid ones.
func parseAnswer(text string, n int) (answer, int, error) {
	raw := strings.TrimSpace(text)
	var obj struct {
		Query string            `json:"query"`
		IDs   []json.RawMessage `json:"ids"`
	}
	if i, j := strings.IndexByte(raw, '{'), strings.LastIndexByte(raw, '}'); i >= 0 && j > i {
		if err := json.Unmarshal([]byte(raw[i:j+1]), &obj); err != nil {
			return answer{}, 0, fmt.Errorf("%w: not JSON: %w", errUnusable, err)
		}
	} else if i, j := strings.IndexByte(raw, '['), strings.LastIndexByte(raw, ']'); i >= 0 && j > i {
		if err := json.Unmarshal([]byte(raw[i:j+1]), &obj.IDs); err != nil {
			return answer{}, 0, fmt.Errorf("%w: not JSON: %w", errUnusable, err)
		}
	} else {
		return answer{}, 0, fmt.Errorf("%w: no JSON in %d bytes", errUnusable, len(raw))
	}
	ans := answer{query: strings.TrimSpace(memory.SingleLine(obj.Query))}
	seen := map[int]bool{}
	invalid := 0
	for _, id := range obj.IDs {
		s := strings.Trim(strings.TrimSpace(string(id)), `"`)
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || k < 1 || k > n || seen[k] {
			invalid++
			continue
		}
		seen[k] = true
		ans.picks = append(ans.picks, k-1)
	}
	switch {
	case len(ans.picks) == 0:
		return ans, invalid, fmt.Errorf("%w: no valid id among %d", errUnusable, len(obj.IDs))
	case invalid > len(ans.picks):
		return ans, invalid, fmt.Errorf("%w: %d of %d ids are unknown or repeated", errUnusable, invalid, len(obj.IDs))
	}
	return ans, invalid, nil
}

// record counts and logs one call (never the user's words).
func (r *Reranker) record(rep RerankReport) {
	if rep.Candidates == 0 {
		return
	}
	if m := r.opts.Meter; m != nil {
		if rep.Fallback != RerankNoModel {
			m.MemoryEvent("rerank", 1)
			m.MemoryEvent("rerank_input_tokens", rep.InputTokens)
			m.MemoryEvent("rerank_output_tokens", rep.OutputTokens)
		}
		if rep.Fallback != "" {
			m.MemoryEvent("rerank_fallback_"+rep.Fallback, 1)
		}
	}
	r.log.Debug("memory rerank", "used", rep.Used, "fallback", rep.Fallback, "candidates", rep.Candidates,
		"picked", rep.Picked, "invalid", rep.Invalid, "input_tokens", rep.InputTokens,
		"output_tokens", rep.OutputTokens, "took", rep.Took)
}
