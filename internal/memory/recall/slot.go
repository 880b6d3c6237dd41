package recall

import (
	"context"
	"github.com/os1ai/os1/internal/memory"
	"time"

	"github.com/os1ai/os1/internal/companion"
)

// SlotName is the heading of the memories section of the system prompt.
const SlotName = "What you remember"

// DefaultSlotBudget is the prompt slot's size in tokens.
const DefaultSlotBudget = 600

// PromptRecaller is what the prompt slot needs of the Recaller.
type PromptRecaller interface {
	RecallForPrompt(ctx context.Context, userID, latest string, tokenBudget int, loc *time.Location) (string, []memory.Hit, error)
}

var (
	_ PromptRecaller  = (*Recaller)(nil)
	_ memory.Searcher = (*Recaller)(nil)
	_ companion.Slot  = (*Slot)(nil)
)

// Slot is the system prompt section that holds what the companion recalls
// about the latest message. It implements companion.Slot.
//
// Everything it puts in the prompt is also told to Echoes, so that when the
// companion repeats a memory back, extraction does not store it a second
// time as if the user had said it.
type Slot struct {
	recall   PromptRecaller
	profiles memory.ProfileReader
	echoes   *memory.Echoes
	budget   int
}

// NewSlot returns the memories slot. budget is in tokens (0: DefaultSlotBudget);
// echoes may be nil when nothing extracts.
func NewSlot(r PromptRecaller, profiles memory.ProfileReader, echoes *memory.Echoes, budget int) *Slot {
	if budget <= 0 {
		budget = DefaultSlotBudget
	}
	return &Slot{recall: r, profiles: profiles, echoes: echoes, budget: budget}
}

// SlotName is the section heading.
func (s *Slot) SlotName() string { return SlotName }

// SlotText recalls what fits the budget for the latest user message.
func (s *Slot) SlotText(ctx context.Context, userID, latest string) (string, error) {
	loc, err := memory.UserLocation(ctx, s.profiles, userID)
	if err != nil {
		return "", err
	}
	text, hits, err := s.recall.RecallForPrompt(ctx, userID, latest, s.budget, loc)
	if err != nil {
		return "", err
	}
	if s.echoes != nil {
		for _, h := range hits {
			s.echoes.Remember(userID, h.Text)
		}
	}
	return text, nil
}
