// Package extract turns conversations into memory: the Extractor reads new
// messages and, through the language model, adds, supersedes and
// invalidates memory items (people included) behind the guards of guard.go;
// the Consolidator writes the companion's daily journal.
//
// It must never store an item without a source message among the batch it
// read, never store text that came from the system prompt or from recalled
// memories (memory.Echoes), never delete a belief (a changed one is
// superseded and stays as history), and never decide when to run: the
// worker (package worker) and os1 memory import call it.
package extract

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/os1ai/os1/internal/memory"
	"iter"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// Models hands out the connected language model (companion.Models has the
// same shape). It returns an error wrapping llm.ErrNoProvider when none is.
type Models interface {
	Provider(ctx context.Context) (llm.Provider, error)
}

type nopMeter struct{}

func (nopMeter) MemoryEvent(string, int) {}

// Extraction outcomes, one per operation the model proposed (or per call
// for OutInvalidJSON and OutModelError).
const (
	OutAdded         = "added"
	OutSuperseded    = "superseded"
	OutInvalidated   = "invalidated"
	OutDuplicate     = "duplicate"       // guard 2: already remembered
	OutEcho          = "rejected_echo"   // guard 1: text from the system prompt or recalled memories
	OutCapped        = "dropped_cap"     // guard 3: over the per-extraction cap
	OutNoSource      = "rejected_source" // guard 4: no sources, or one not among the batch's messages
	OutAssistantOnly = "rejected_assistant_only"
	OutBadTarget     = "rejected_target"  // supersede/invalidate of an unknown or closed item
	OutInvalid       = "rejected_invalid" // bad kind, empty or overlong text, wrong types
	OutLowConfidence = "rejected_confidence"
	OutUnknownOp     = "unknown_op"
	OutInvalidJSON   = "invalid_json"
	OutModelError    = "model_error"
)

// Options tune extraction. Zero values take the defaults.
type Options struct {
	MaxItems      int     // writes per extraction; more are dropped (default 5)
	MinConfidence float64 // operations the model is less sure of are dropped (default 0.4; negative: none)
	Related       int     // current memories shown to the model (default 12)
	NearIdentical float64 // embedding cosine at or above which texts are the same (default 0.92; above 1: never)
	MaxTokens     int     // the model's reply (default 1024)
}

func (o Options) withDefaults() Options {
	if o.MaxItems <= 0 {
		o.MaxItems = 5
	}
	if o.MinConfidence == 0 {
		o.MinConfidence = 0.4
	}
	if o.Related <= 0 {
		o.Related = 12
	}
	if o.NearIdentical == 0 {
		o.NearIdentical = 0.92
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 1024
	}
	return o
}

// Deps are the extractor's collaborators.
type Deps struct {
	Memory   memory.Store
	Recall   memory.Searcher // the Recaller: finds the memories to show the model
	Models   Models
	Embedder memory.Embedder // nil: near-identical means equal after folding case and punctuation
	Echoes   *memory.Echoes  // what the slot and tool showed the companion; nil: nothing
	Clock    clock.Clock
	Meter    memory.Meter
	Log      *slog.Logger
}

// Extractor turns new messages into memory items through the language model.
// It must never store an item whose provenance it cannot check (see applier).
type Extractor struct {
	d    Deps
	opts Options
}

// New returns an extractor.
func New(d Deps, o Options) *Extractor {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Meter == nil {
		d.Meter = nopMeter{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Extractor{d: d, opts: o.withDefaults()}
}

// Batch is the new part of one conversation that extraction reads.
// PeopleReader is what BatchFor reads: who the user is, her persona, and
// what the first meeting learned.
type PeopleReader interface {
	memory.ProfileReader
	UserByID(ctx context.Context, id string) (store.User, error)
	Persona(ctx context.Context, userID string) (store.Persona, error)
}

// BatchFor gathers a batch's context for one conversation: who is talking,
// in which time zone, and what the system prompt holds (never to be taken
// for a memory). The worker and `os1 memory import` both start here, so
// extraction sees the same context however messages arrive.
func BatchFor(ctx context.Context, core PeopleReader, userID, convID string) (Batch, error) {
	u, err := core.UserByID(ctx, userID)
	if err != nil {
		return Batch{}, fmt.Errorf("read user %s: %w", userID, err)
	}
	persona, err := core.Persona(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Batch{}, err
	}
	prof, err := core.Profile(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Batch{}, err
	}
	b := Batch{UserID: userID, ConversationID: convID, UserName: cmp.Or(u.DisplayName, u.Username),
		CompanionName: persona.Name, Loc: prof.Location(), Prompt: []string{persona.Voice, persona.Style}}
	for _, k := range slices.Sorted(maps.Keys(prof.Answers)) {
		b.Prompt = append(b.Prompt, prof.Answers[k])
	}
	return b, nil
}

type Batch struct {
	UserID         string
	ConversationID string
	UserName       string // how the user is called in memories
	CompanionName  string
	Loc            *time.Location // the user's time zone
	// Messages are the new user and assistant messages, oldest first; tool
	// messages and anything else are ignored.
	Messages []store.Message
	// Prompt is text the companion's system prompt held (persona, the
	// first-meeting answers). Nothing in it becomes a memory.
	Prompt []string
}

// Result says what one extraction did.
type Result struct {
	Added       []string       // new items, successors of superseded ones included
	Superseded  []string       // items closed by a successor
	Invalidated []string       // items closed without one
	Entities    []string       // people created
	Outcomes    map[string]int // Out* -> count
}

// ErrFailed wraps failures worth retrying later (model down, 429,
// storage errors). Bad model output is not one: it is counted and dropped.
var ErrFailed = errors.New("memory extraction failed")

// Extract reads b and writes what is worth remembering. An error means
// nothing useful was done and the batch should be tried again later.
func (e *Extractor) Extract(ctx context.Context, b Batch) (Result, error) {
	res := Result{Outcomes: map[string]int{}}
	b.Messages = Conversational(b.Messages)
	if b.Loc == nil {
		b.Loc = time.Local
	}
	hasUser := false
	for _, m := range b.Messages {
		hasUser = hasUser || m.Role == store.RoleUser
	}
	if !hasUser { // nothing the user said: nothing to learn about them
		return res, nil
	}
	related, err := e.related(ctx, b)
	if err != nil {
		return res, fmt.Errorf("%w: find related memories for conversation %s: %w", ErrFailed, b.ConversationID, err)
	}
	system, prompt := extractPrompt(b, related, e.opts.MaxItems)
	reply, err := completeText(ctx, e.d.Models, llm.Request{System: system, Messages: []llm.Message{{Role: llm.RoleUser, Content: prompt}},
		MaxTokens: e.opts.MaxTokens, Temperature: new(0.0)})
	if err != nil {
		e.d.Meter.MemoryEvent(OutModelError, 1)
		return res, fmt.Errorf("%w: conversation %s: %w", ErrFailed, b.ConversationID, err)
	}
	ops, ok := parseOps(reply)
	if !ok {
		e.d.Meter.MemoryEvent(OutInvalidJSON, 1)
		res.Outcomes[OutInvalidJSON]++
		e.d.Log.Warn("memory extraction: the model's answer is not the JSON asked for; nothing stored",
			"conversation", b.ConversationID, "answer_bytes", len(reply))
		return res, nil
	}
	// Writes go through even if ctx ends now, so one batch is stored whole
	// or (on a storage error) retried whole; duplicates are then merged.
	a := &applier{e: e, b: b, res: &res, related: related, instructions: normText(system)}
	err = a.run(context.WithoutCancel(ctx), ops)
	for k, n := range res.Outcomes {
		e.d.Meter.MemoryEvent(k, n)
	}
	if err != nil {
		return res, fmt.Errorf("%w: store memories of conversation %s: %w", ErrFailed, b.ConversationID, err)
	}
	return res, nil
}

// DefaultBatchMessages is how many conversational messages one extraction
// call reads, in the worker and in os1 memory import alike.
const DefaultBatchMessages = 20

// Batches splits msgs, in order, into the runs one extraction call
// each reads: at most n conversational messages a run (tool output and
// empty replies ride along uncounted). Every message is in exactly one run.
func Batches(msgs []store.Message, n int) iter.Seq[[]store.Message] {
	n = max(n, 1)
	return func(yield func([]store.Message) bool) {
		for from := 0; from < len(msgs); {
			to, counted := from, 0
			for to < len(msgs) && counted < n {
				if len(Conversational(msgs[to:to+1])) == 1 {
					counted++
				}
				to++
			}
			if !yield(msgs[from:to]) {
				return
			}
			from = to
		}
	}
}

// Conversational keeps the messages extraction (and the recall index) may
// read: complete or interrupted user and assistant messages with text. Tool
// results and the system prompt never reach the extractor.
func Conversational(msgs []store.Message) []store.Message {
	var out []store.Message
	for _, m := range msgs {
		if (m.Role == store.RoleUser || m.Role == store.RoleAssistant) && strings.TrimSpace(m.Content) != "" &&
			(m.Status == store.StatusComplete || m.Status == store.StatusInterrupted) {
			out = append(out, m)
		}
	}
	return out
}

// related finds the current memories closest to what the user said, so the
// model can supersede or skip them.
func (e *Extractor) related(ctx context.Context, b Batch) ([]memory.Item, error) {
	var q strings.Builder
	for _, m := range b.Messages {
		if m.Role == store.RoleUser && q.Len() < 2000 {
			q.WriteString(m.Content + "\n")
		}
	}
	var hits []memory.Hit
	var err error
	// From is set so that time words in what the user said ("last week")
	// do not narrow the search, as they would for a question.
	query := memory.Query{Text: memory.ClipRunes(q.String(), 2000), Limit: e.opts.Related, Kinds: []memory.DocKind{memory.DocItem}, From: time.Unix(1, 0)}
	if e.d.Recall != nil {
		hits, err = e.d.Recall.Recall(ctx, b.UserID, query, b.Loc)
	} else {
		hits, err = e.d.Memory.SearchText(ctx, b.UserID, query)
	}
	if err != nil {
		return nil, err
	}
	var out []memory.Item
	for _, h := range hits {
		if h.Item != nil && h.Item.Current() {
			out = append(out, *h.Item)
		}
	}
	return out, nil
}

// completeText asks the connected model and returns its whole text answer.
func completeText(ctx context.Context, models Models, req llm.Request) (string, error) {
	prov, err := models.Provider(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for ev, err := range prov.Stream(ctx, req) {
		if err != nil {
			return "", err
		}
		if ev.Kind == llm.EventText {
			b.WriteString(ev.Text)
		}
	}
	return b.String(), nil
}

// exampleMemory shows the model the shape of a memory. Being in the
// instructions, it can never be stored itself.
const exampleMemory = "%s's sister Ana teaches violin in Porto."

// extractPrompt renders the instructions and the batch.
func extractPrompt(b Batch, related []memory.Item, maxItems int) (system, user string) {
	you, them := cmp.Or(b.CompanionName, "the companion"), cmp.Or(b.UserName, "the user")
	var s strings.Builder
	fmt.Fprintf(&s, "You are %s, an AI companion, deciding what to remember from a conversation with %s.\n", you, them)
	fmt.Fprintf(&s, "Keep only what will still matter in weeks or months: facts about %s and their world, events with their dates, preferences, notes about the people in their life, and your own reflections about %s.\n\n", them, them)
	s.WriteString("Rules:\n")
	fmt.Fprintf(&s, "- Use only what the new messages say. Never repeat a memory you already have: supersede it when it changed or was wrong, invalidate it when it stopped being true, otherwise leave it.\n")
	fmt.Fprintf(&s, "- sources lists the ids of the new messages an operation comes from. A fact about %s must come from something %s said, not from a guess of yours.\n", them, them)
	fmt.Fprintf(&s, "- Each text is one short, self-contained sentence in the third person that names people, e.g. %q\n", fmt.Sprintf(exampleMemory, them))
	s.WriteString("- people lists the names of the people a memory is about (not pronouns, not \"a friend\").\n")
	s.WriteString("- Resolve relative dates (\"tomorrow\", \"next Friday\") against the message's time; put an event's date and time in event_time (RFC 3339), or leave it empty.\n")
	s.WriteString("- confidence: how sure you are (0 to 1). importance: how much it matters to them (0 to 1).\n")
	s.WriteString("- Skip greetings, small talk, questions, and anything you already remember.\n")
	fmt.Fprintf(&s, "- At most %d operations. When nothing is worth remembering, answer {\"operations\":[]}.\n\n", maxItems)
	s.WriteString("Answer with JSON only, no other text, in exactly this shape:\n")
	s.WriteString(`{"operations":[` + "\n")
	s.WriteString(` {"op":"add","kind":"fact|event|preference|reflection|person","text":"…","sources":["msg_…"],"people":["Name"],"event_time":"","confidence":0.9,"importance":0.5},` + "\n")
	s.WriteString(` {"op":"supersede","target":"<id of a memory you have>","kind":"…","text":"…","sources":["msg_…"],"people":[],"event_time":"","confidence":0.9,"importance":0.5},` + "\n")
	s.WriteString(` {"op":"invalidate","target":"<id of a memory you have>","sources":["msg_…"]}` + "\n]}\n")

	var u strings.Builder
	last := b.Messages[len(b.Messages)-1].CreatedAt.In(b.Loc)
	fmt.Fprintf(&u, "The last message was written on %s, time zone %s.\n\n", last.Format("Monday 2 January 2006, 15:04"), b.Loc)
	u.WriteString("Memories you already have:\n")
	if len(related) == 0 {
		u.WriteString("(none)\n")
	}
	for _, it := range related {
		fmt.Fprintf(&u, "- %s (%s, since %s): %s\n", it.ID, it.Kind, it.ValidFrom.In(b.Loc).Format("2006-01-02"), memory.SingleLine(it.Text))
	}
	u.WriteString("\nNew messages:\n")
	for _, m := range b.Messages {
		who := them
		if m.Role == store.RoleAssistant {
			who = you + " (you)"
		}
		fmt.Fprintf(&u, "[%s] %s, %s: %s\n", m.ID, m.CreatedAt.In(b.Loc).Format("2006-01-02 15:04 MST"), who, memory.ClipRunes(m.Content, 2000))
	}
	return s.String(), u.String()
}

// extractOp is one operation as the model wrote it.
type extractOp struct {
	Op         string   `json:"op"`
	Kind       string   `json:"kind"`
	Target     string   `json:"target"`
	Text       string   `json:"text"`
	Sources    []string `json:"sources"`
	People     []string `json:"people"`
	EventTime  string   `json:"event_time"`
	Confidence *float64 `json:"confidence"`
	Importance *float64 `json:"importance"`
	bad        bool     // did not decode
}

// maxExtractOps bounds how much of a runaway answer is even looked at.
const maxExtractOps = 50

// parseOps finds the JSON in a model's answer: bare, in a code fence, after
// a <think> block or amid prose; {"operations":[…]} or a bare array. It
// reports false when there is none. Operations that do not decode are kept
// as bad, so they are counted.
func parseOps(reply string) ([]extractOp, bool) {
	s := reply
	if i := strings.LastIndex(s, "</think>"); i >= 0 {
		s = s[i+len("</think>"):]
	}
	if i := strings.Index(s, "```"); i >= 0 {
		rest := s[i+3:]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[nl+1:] // drop the fence's language tag
		}
		if j := strings.Index(rest, "```"); j >= 0 {
			rest = rest[:j]
		}
		s = rest
	}
	start := strings.IndexAny(s, "{[")
	if start < 0 {
		return nil, false
	}
	closer := "}"
	if s[start] == '[' {
		closer = "]"
	}
	end := strings.LastIndex(s, closer)
	if end < start {
		return nil, false
	}
	raw := []byte(s[start : end+1])
	var list []json.RawMessage
	if s[start] == '[' {
		if json.Unmarshal(raw, &list) != nil {
			return nil, false
		}
	} else {
		var env struct {
			Operations *[]json.RawMessage `json:"operations"`
		}
		if json.Unmarshal(raw, &env) != nil || env.Operations == nil {
			return nil, false
		}
		list = *env.Operations
	}
	ops := make([]extractOp, 0, min(len(list), maxExtractOps))
	for _, r := range list[:min(len(list), maxExtractOps)] {
		var o extractOp
		if json.Unmarshal(r, &o) != nil {
			o = extractOp{bad: true}
		}
		ops = append(ops, o)
	}
	return ops, true
}

// clamp01 reads an optional 0..1 score, def when absent.
func clamp01(p *float64, def float64) float64 {
	if p == nil || math.IsNaN(*p) {
		return def
	}
	return min(max(*p, 0), 1)
}

// parseEventTime accepts RFC 3339, a local date-time, or a date (in loc).
func parseEventTime(s string, loc *time.Location) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t
		}
	}
	return time.Time{}
}
