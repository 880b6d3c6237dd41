package extract

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/os1ai/os1/internal/memory"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// JournalOptions tune consolidation. Zero values take the defaults.
type JournalOptions struct {
	IdleAfter   time.Duration // quiet time before today's entry is written (default 30m)
	MaxTokens   int           // of the day's messages shown to the model (default 6000)
	ReplyTokens int           // of the entry (default 400)
	DaysPerRun  int           // entries written per Consolidate; the rest wait (default 3)
}

// CoreReader is the core store as the consolidator reads it: the user, their
// persona and time zone, and the episodic log.
type CoreReader interface {
	memory.ProfileReader
	UserByID(ctx context.Context, id string) (store.User, error)
	Persona(ctx context.Context, userID string) (store.Persona, error)
	ListConversations(ctx context.Context, userID string) ([]store.Conversation, error)
	Messages(ctx context.Context, userID, conversationID string) ([]store.Message, error)
}

// ConsolidatorDeps are the consolidator's collaborators.
type ConsolidatorDeps struct {
	Core     CoreReader
	Memory   memory.Store
	Models   Models
	Embedder memory.Embedder // nil: the entry is indexed for full text only
	Progress memory.Progress // nil: the Memory store's (see ProgressKeeper)
	Clock    clock.Clock
	Meter    memory.Meter
	Log      *slog.Logger
}

// Consolidator writes the companion's journal: one entry per day in the
// user's time zone, in her voice, linked to the day's messages. Rewriting a
// day replaces its entry, so running it twice is harmless.
type Consolidator struct {
	d    ConsolidatorDeps
	opts JournalOptions
}

// NewConsolidator returns a consolidator.
func NewConsolidator(d ConsolidatorDeps, o JournalOptions) *Consolidator {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Meter == nil {
		d.Meter = nopMeter{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	d.Progress = memory.ProgressOf(d.Progress, d.Memory, "extract.NewConsolidator")
	o.IdleAfter = cmp.Or(o.IdleAfter, 30*time.Minute)
	o.MaxTokens = cmp.Or(o.MaxTokens, 6000)
	o.ReplyTokens = cmp.Or(o.ReplyTokens, 400)
	o.DaysPerRun = cmp.Or(o.DaysPerRun, 3)
	return &Consolidator{d: d, opts: o}
}

// errQuietDay: the user said nothing that day, so there is nothing to write.
var errQuietDay = errors.New("the user wrote no message that day")

const journalDay = "2006-01-02"

// Consolidate writes the entries that are due for a user and returns their
// days. A day with messages newer than the journal is due once the user has
// been idle for IdleAfter (no conversation of theirs changed), or once the
// day is over in their time zone (the nightly case, for someone who talks
// across midnight). On an error the days not yet written stay due.
func (c *Consolidator) Consolidate(ctx context.Context, userID string) ([]string, error) {
	loc, err := memory.UserLocation(ctx, c.d.Core, userID)
	if err != nil {
		return nil, err
	}
	since, err := c.d.Progress.Journaled(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("read journal progress of user %s: %w", userID, err)
	}
	convs, err := c.d.Core.ListConversations(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list conversations of user %s: %w", userID, err)
	}
	var active time.Time // the last change to any conversation (a message, a rename)
	for _, conv := range convs {
		active = laterOf(active, conv.UpdatedAt)
	}
	now := c.d.Clock.Now()
	idle := now.Sub(active) >= c.opts.IdleAfter
	today := now.In(loc).Format(journalDay)
	if !active.After(since) || (!idle && !since.IsZero() && since.In(loc).Format(journalDay) == today) {
		return nil, nil // nothing new, or only today's talk while it goes on
	}
	fresh, err := c.messages(ctx, userID, convs, since, time.Time{})
	if err != nil {
		return nil, err
	}
	var settled time.Time // the newest message not still being written
	days := map[string]time.Time{}
	for _, m := range fresh {
		if m.Status != store.StatusStreaming {
			settled = laterOf(settled, m.CreatedAt)
		}
		if len(Conversational([]store.Message{m})) == 1 {
			d := m.CreatedAt.In(loc).Format(journalDay)
			days[d] = laterOf(days[d], m.CreatedAt)
		}
	}
	done := since
	var written []string
	for _, day := range slices.Sorted(maps.Keys(days)) {
		if (day >= today && !idle) || len(written) == c.opts.DaysPerRun {
			break
		}
		if _, err := c.WriteDay(ctx, userID, day); err != nil && !errors.Is(err, errQuietDay) {
			return written, err
		}
		written = append(written, day)
		done = laterOf(done, days[day])
	}
	if len(written) == len(days) { // tool results and the like are covered too
		done = laterOf(done, settled)
	}
	if done.Equal(since) {
		return written, nil
	}
	if err := c.d.Progress.SetJournaled(ctx, userID, done); err != nil {
		return written, fmt.Errorf("save journal progress of user %s: %w", userID, err)
	}
	return written, nil
}

// WriteDay writes (or rewrites) the entry for day, YYYY-MM-DD in the user's
// time zone, from every message of that day.
func (c *Consolidator) WriteDay(ctx context.Context, userID, day string) (memory.Journal, error) {
	loc, err := memory.UserLocation(ctx, c.d.Core, userID)
	if err != nil {
		return memory.Journal{}, err
	}
	start, err := time.ParseInLocation(journalDay, day, loc)
	if err != nil {
		return memory.Journal{}, fmt.Errorf("journal day %q is not YYYY-MM-DD: %w", day, err)
	}
	convs, err := c.d.Core.ListConversations(ctx, userID)
	if err != nil {
		return memory.Journal{}, fmt.Errorf("list conversations of user %s: %w", userID, err)
	}
	msgs, err := c.messages(ctx, userID, convs, start.Add(-time.Nanosecond), start.AddDate(0, 0, 1))
	if err != nil {
		return memory.Journal{}, err
	}
	msgs = Conversational(msgs)
	if !slices.ContainsFunc(msgs, func(m store.Message) bool { return m.Role == store.RoleUser }) {
		return memory.Journal{}, fmt.Errorf("journal of %s: %w", day, errQuietDay)
	}
	u, err := c.d.Core.UserByID(ctx, userID)
	if err != nil {
		return memory.Journal{}, err
	}
	persona, err := c.d.Core.Persona(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return memory.Journal{}, err
	}
	system, prompt, sources := journalPrompt(persona.Name, cmp.Or(u.DisplayName, u.Username), start, msgs, c.opts.MaxTokens)
	text, err := completeText(ctx, c.d.Models, llm.Request{System: system, Messages: []llm.Message{{Role: llm.RoleUser, Content: prompt}},
		MaxTokens: c.opts.ReplyTokens})
	if err != nil {
		return memory.Journal{}, fmt.Errorf("write the journal of %s: %w", day, err)
	}
	if i := strings.LastIndex(text, "</think>"); i >= 0 {
		text = text[i+len("</think>"):]
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return memory.Journal{}, fmt.Errorf("write the journal of %s: the model answered nothing", day)
	}
	j := memory.Journal{ID: clock.NewID("jnl_"), UserID: userID, Day: day, Text: text, Sources: sources, CreatedAt: c.d.Clock.Now()}
	if old, err := c.d.Memory.Journals(ctx, userID, day, day); err == nil && len(old) > 0 {
		j.ID = old[0].ID
	}
	var vec []float32
	if c.d.Embedder != nil {
		vecs, err := c.d.Embedder.Embed(ctx, []string{text})
		if err != nil || len(vecs) != 1 {
			return memory.Journal{}, fmt.Errorf("embed the journal of %s: %w (%d vectors)", day, err, len(vecs))
		}
		vec = vecs[0]
	}
	if err := c.d.Memory.SaveJournal(ctx, j, vec); err != nil {
		return memory.Journal{}, fmt.Errorf("save the journal of %s: %w", day, err)
	}
	c.d.Meter.MemoryEvent("journal", 1)
	return j, nil
}

// messages returns the messages of convs created after from and (when to
// is set) before to, oldest first.
func (c *Consolidator) messages(ctx context.Context, userID string, convs []store.Conversation, from, to time.Time) ([]store.Message, error) {
	var out []store.Message
	for _, conv := range convs {
		if !conv.UpdatedAt.After(from) {
			continue // nothing new in it (UpdatedAt is bumped by every message)
		}
		msgs, err := c.d.Core.Messages(ctx, userID, conv.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("read conversation %s: %w", conv.ID, err)
		}
		for _, m := range msgs {
			if m.CreatedAt.After(from) && (to.IsZero() || m.CreatedAt.Before(to)) {
				out = append(out, m)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b store.Message) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// journalPrompt renders the instructions and the day's messages within
// budget tokens; sources are the messages shown.
func journalPrompt(companion, user string, day time.Time, msgs []store.Message, budget int) (system, prompt string, sources []string) {
	companion = cmp.Or(companion, "an AI companion")
	date := day.Format("Monday 2 January 2006")
	system = fmt.Sprintf("You are %s, %s's AI companion. At the end of each day you write a short private journal entry about your time together.\n"+
		"Write the entry for %s: three to five sentences, in the first person, in your own warm voice, about what %s shared, what happened and how they seemed. "+
		"Use only what is in the conversation below and invent nothing. Plain text: no heading, no date, no list.\n", companion, user, date, user)
	var b strings.Builder
	fmt.Fprintf(&b, "Conversation of %s (%s):\n", date, day.Location())
	used := 0
	for i, m := range msgs {
		who := user
		if m.Role == store.RoleAssistant {
			who = companion + " (you)"
		}
		line := fmt.Sprintf("[%s] %s: %s\n", m.CreatedAt.In(day.Location()).Format("15:04"), who, memory.ClipRunes(memory.SingleLine(m.Content), 1000))
		if used+len(line)/4 > budget && len(sources) > 0 {
			fmt.Fprintf(&b, "(%d later messages left out)\n", len(msgs)-i)
			break
		}
		used += len(line) / 4
		b.WriteString(line)
		sources = append(sources, m.ID)
	}
	return system, b.String(), sources
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
