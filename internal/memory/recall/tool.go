package recall

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/os1ai/os1/internal/memory"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/companion"
)

// Limits of the recall tool's answer.
const (
	toolDefaultLimit = 8
	toolMaxLimit     = 25
	toolLineRunes    = 500
)

// NewTool returns the companion's "recall" tool: a search of the user's
// memories, journal and past messages that lists each hit with its date and
// the messages it came from. It changes nothing, so it runs without asking.
// What it returns is told to echoes (may be nil), like the prompt slot's text.
func NewTool(r memory.Searcher, echoes *memory.Echoes) companion.Tool {
	return companion.Tool{
		Name: "recall",
		Description: "Search what you remember about the user: memories, your journal and past messages. " +
			"Use it when they refer to something earlier that is not in the conversation. " +
			"Time words in the query (\"last week\", \"in May\") narrow the search.",
		Parameters: json.RawMessage(`{"type":"object","properties":{` +
			`"query":{"type":"string","description":"what to look for, in a few words"},` +
			`"limit":{"type":"integer","minimum":1,"maximum":25,"description":"how many results, default 8"}},` +
			`"required":["query"]}`),
		Run: func(ctx context.Context, c companion.Call) (string, error) {
			var a struct {
				Query string `json:"query"`
				Limit int    `json:"limit"`
			}
			if err := json.Unmarshal(c.Args, &a); err != nil {
				return "", fmt.Errorf("arguments are not valid JSON: %w", err)
			}
			q := strings.TrimSpace(a.Query)
			if q == "" {
				return "", fmt.Errorf("query is empty; say what to look for")
			}
			limit := a.Limit
			if limit <= 0 {
				limit = toolDefaultLimit
			}
			limit = min(limit, toolMaxLimit)
			loc := c.Location
			if loc == nil {
				loc = time.UTC
			}
			hits, err := r.Recall(ctx, c.UserID, memory.Query{Text: q, Limit: limit}, loc)
			if err != nil {
				return "", fmt.Errorf("search memory for %q: %w", q, err)
			}
			if len(hits) == 0 {
				return fmt.Sprintf("Nothing found in memory for %q.", q), nil
			}
			var b strings.Builder
			fmt.Fprintf(&b, "%d results for %q, best first:\n", len(hits), q)
			for i, h := range hits {
				text := memory.ClipRunes(memory.SingleLine(h.Text), toolLineRunes+unitRunes+len("(before: …) ")) // a unit's prefix is extra
				fmt.Fprintf(&b, "%d. %s %s\n", i+1, hitLabel(h, loc), text)
				fmt.Fprintf(&b, "   sources: %s\n", strings.Join(h.Sources, ", "))
				if echoes != nil {
					echoes.Remember(c.UserID, h.Text)
				}
			}
			return b.String(), nil
		},
	}
}

// hitLabel says what a hit is and when: "[2026-03-02, memory (fact) mem_…]".
func hitLabel(h memory.Hit, loc *time.Location) string {
	when := "undated"
	if !h.Time.IsZero() {
		when = h.Time.In(loc).Format("2006-01-02")
	}
	switch {
	case h.Item != nil:
		if !h.Item.EventTime.IsZero() {
			when += ", happens " + h.Item.EventTime.In(loc).Format("2006-01-02 15:04")
		}
		state := ""
		if !h.Item.Current() {
			state = ", no longer true"
		}
		return fmt.Sprintf("[%s, memory (%s%s) %s]", when, h.Item.Kind, state, h.ID)
	case h.Kind == memory.DocJournal:
		return fmt.Sprintf("[%s, journal]", when)
	default:
		if !h.Time.IsZero() {
			when = h.Time.In(loc).Format("2006-01-02 15:04")
		}
		return fmt.Sprintf("[%s, said in a conversation]", when)
	}
}
