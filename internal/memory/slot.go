package memory

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
)

// SlotName is the heading of the memories section of the system prompt.
const SlotName = "What you remember"

// DefaultSlotBudget is the prompt slot's size in tokens.
const DefaultSlotBudget = 600

// PromptRecaller is what the prompt slot needs of the Recaller.
type PromptRecaller interface {
	RecallForPrompt(ctx context.Context, userID, latest string, tokenBudget int, loc *time.Location) (string, []Hit, error)
}

// Searcher is what the recall tool and the extractor (which shows the model
// what is already remembered) need of the Recaller.
type Searcher interface {
	Recall(ctx context.Context, userID string, q Query, loc *time.Location) ([]Hit, error)
}

var (
	_ PromptRecaller = (*Recaller)(nil)
	_ Searcher       = (*Recaller)(nil)
	_ companion.Slot = (*Slot)(nil)
)

// ProfileReader finds a user's time zone (the core store).
type ProfileReader interface {
	Profile(ctx context.Context, userID string) (store.Profile, error)
}

// Slot is the system prompt section that holds what the companion recalls
// about the latest message. It implements companion.Slot.
//
// Everything it puts in the prompt is also told to Echoes, so that when the
// companion repeats a memory back, extraction does not store it a second
// time as if the user had said it.
type Slot struct {
	recall   PromptRecaller
	profiles ProfileReader
	echoes   *Echoes
	budget   int
}

// NewSlot returns the memories slot. budget is in tokens (0: DefaultSlotBudget);
// echoes may be nil when nothing extracts.
func NewSlot(r PromptRecaller, profiles ProfileReader, echoes *Echoes, budget int) *Slot {
	if budget <= 0 {
		budget = DefaultSlotBudget
	}
	return &Slot{recall: r, profiles: profiles, echoes: echoes, budget: budget}
}

// SlotName is the section heading.
func (s *Slot) SlotName() string { return SlotName }

// SlotText recalls what fits the budget for the latest user message.
func (s *Slot) SlotText(ctx context.Context, userID, latest string) (string, error) {
	loc, err := userLocation(ctx, s.profiles, userID)
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

// userLocation is the user's time zone, or the server's when unset or unknown.
func userLocation(ctx context.Context, p ProfileReader, userID string) (*time.Location, error) {
	prof, err := p.Profile(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if prof.Timezone != "" {
		if loc, err := time.LoadLocation(prof.Timezone); err == nil {
			return loc, nil
		}
	}
	return time.Local, nil
}

// echoesPerUser bounds what Echoes keeps: a few turns' worth of slots and
// tool results, which is as far back as a model plausibly repeats them.
const echoesPerUser = 64

// Echoes remembers, per user, the memory text recently shown to the model
// (the prompt slot and the recall tool). It is in memory only: after a
// restart nothing has been shown yet. Safe for concurrent use.
type Echoes struct {
	mu     sync.Mutex
	byUser map[string][]string // oldest first
}

// NewEchoes returns an empty record.
func NewEchoes() *Echoes { return &Echoes{byUser: map[string][]string{}} }

// Remember records text shown to the model on userID's behalf.
func (e *Echoes) Remember(userID, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.byUser[userID]
	for i, t := range l {
		if t == text { // move to the newest end
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	l = append(l, text)
	if len(l) > echoesPerUser {
		l = l[len(l)-echoesPerUser:]
	}
	e.byUser[userID] = l
}

// Recent returns the texts shown for userID, oldest first.
func (e *Echoes) Recent(userID string) []string {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.byUser[userID]...)
}
