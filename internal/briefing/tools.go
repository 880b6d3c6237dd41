package briefing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/companion"
)

// Tools returns the read-only companion tools meeting_brief and
// morning_briefing.
func (b *Briefer) Tools() []companion.Tool {
	return []companion.Tool{
		{
			Name: "meeting_brief",
			Description: "Prepare a short brief for the user's next meeting, or the next one matching a few words (title, place or a person): " +
				"who is coming, what you remember of them, the last emails with them or about it, and what the user promised. " +
				"Changes nothing.",
			Parameters: json.RawMessage(`{"type":"object","properties":{` +
				`"meeting":{"type":"string","description":"words from the meeting's title, place or a person's name; empty for the next meeting"}}}`),
			Run: b.meetingTool,
		},
		{
			Name: "morning_briefing",
			Description: "The user's briefing for today: the day's calendar, reminders due today and important mail. " +
				"There is no weather source. Changes nothing.",
			Parameters: json.RawMessage(`{"type":"object","properties":{}}`),
			Run:        b.morningTool,
		},
	}
}

func (b *Briefer) meetingTool(ctx context.Context, c companion.Call) (string, error) {
	var a struct {
		Meeting string `json:"meeting"`
	}
	if len(c.Args) > 0 {
		if err := json.Unmarshal(c.Args, &a); err != nil {
			return "", fmt.Errorf("arguments are not valid JSON: %w", err)
		}
	}
	o, err := b.FindMeeting(ctx, c.UserID, a.Meeting)
	switch {
	case errors.Is(err, ErrNoCalendar):
		return "The user has no calendar os1 can read.", nil
	case errors.Is(err, ErrNoMeeting):
		if q := strings.TrimSpace(a.Meeting); q != "" {
			return fmt.Sprintf("No meeting matching %q in the next two weeks.", q), nil
		}
		return "No meetings in the next two weeks.", nil
	case err != nil:
		return "", err
	}
	return b.BriefOccurrence(ctx, c.UserID, o)
}

func (b *Briefer) morningTool(ctx context.Context, c companion.Call) (string, error) {
	now := c.Now
	if now.IsZero() {
		now = b.d.Clock.Now()
	}
	return b.Morning(ctx, c.UserID, now)
}
