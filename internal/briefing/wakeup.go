package briefing

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/schedule"
)

// A wake-up rings like a call (docs/reminders.md): when it fires, the open
// page rings; when the user answers, the page asks AnswerWakeup, which
// builds the morning briefing here, on the server, and starts os1's turn
// (Companion.Initiate) with the reason "Wake-up call answered: …". The
// briefing reaches that turn's prompt through WakeSlot, once: it is taken
// by the first turn os1 starts for the user in a conversation where they
// have said nothing (that one), within pendingTTL. The slot also asks for the spoken register, since the page
// plays the reply aloud with os1's own voice.

// Wakeups reads one of the user's reminders (reminders.Service).
type Wakeups interface {
	Get(ctx context.Context, userID, id string) (reminders.Reminder, error)
}

// Initiator starts a turn os1 speaks first (companion.Companion).
type Initiator interface {
	Initiate(ctx context.Context, userID, conversationID, reason string) (iter.Seq[companion.Event], error)
}

// AnswerPrefix opens the reason of the turn an answered wake-up starts.
const AnswerPrefix = "Wake-up call answered: "

// ErrNotWakeup: the reminder answered is not a wake-up call.
var ErrNotWakeup = errors.New("that reminder is not a wake-up call")

// ErrNotRung: the wake-up has not rung (it is still to come, or was
// cancelled), so there is nothing to answer.
var ErrNotRung = errors.New("that wake-up call has not rung")

// ErrAnswered: this ring of the wake-up was answered already (each ring
// starts one briefing; a snoozed wake-up rings, and may be answered, again).
var ErrAnswered = errors.New("that wake-up call was answered already")

// ErrUnavailable: the briefer cannot start a turn (no companion yet).
var ErrUnavailable = errors.New("the companion is not available")

// Answered is what AnswerWakeup started.
type Answered struct {
	ConversationID string `json:"conversation_id"`
	Reason         string `json:"reason"`
}

// AnswerWakeup answers the user's wake-up call reminderID: it builds the
// morning briefing and starts os1's turn that speaks it, in conversationID
// (the wake-up's own conversation; "" or a busy one: a new conversation).
func (b *Briefer) AnswerWakeup(ctx context.Context, userID, reminderID, conversationID string) (Answered, error) {
	if b.Wakeups == nil || b.Initiator == nil {
		return Answered{}, ErrUnavailable
	}
	r, err := b.Wakeups.Get(ctx, userID, reminderID)
	if err != nil {
		return Answered{}, err
	}
	if !r.Wake {
		return Answered{}, ErrNotWakeup
	}
	if r.State == schedule.Pending || r.State == schedule.Skipped {
		return Answered{}, ErrNotRung
	}
	ring := userID + "\x00" + reminderID + "\x00" + r.FiredAt.String()
	if !b.pending.answer(ring) {
		return Answered{}, ErrAnswered
	}
	now := b.d.Clock.Now()
	text, err := b.Morning(ctx, userID, now)
	if err != nil {
		b.pending.unanswer(ring)
		return Answered{}, fmt.Errorf("prepare the morning briefing: %w", err)
	}
	reason := AnswerPrefix + r.Text
	if n := []rune(reason); len(n) > companion.MaxReasonChars {
		reason = string(n[:companion.MaxReasonChars-1]) + "…"
	}
	b.pending.put(userID, pendingBrief{text: text, until: now.Add(pendingTTL)})
	evs, err := b.Initiator.Initiate(ctx, userID, conversationID, reason)
	if conversationID != "" && errors.Is(err, companion.ErrBusy) {
		evs, err = b.Initiator.Initiate(ctx, userID, "", reason) // the wake-up's own turn still runs there
	}
	if err != nil {
		b.pending.take(userID, now)
		b.pending.unanswer(ring)
		return Answered{}, fmt.Errorf("start the morning briefing: %w", err)
	}
	conv := conversationID
	next, stop := iter.Pull(evs)
	if ev, ok := next(); ok && ev.Type == companion.EvConversation && ev.Conversation != nil {
		conv = ev.Conversation.ID
	}
	go func() { // the turn's own stream; the pages follow the user's bus
		defer stop()
		for _, ok := next(); ok; _, ok = next() {
		}
	}()
	return Answered{ConversationID: conv, Reason: reason}, nil
}

// WakeSlot is the prompt section "Morning briefing" of the turn an
// answered wake-up started; empty for every other turn.
type WakeSlot struct{ b *Briefer }

// WakeSlot returns the slot that hands an answered wake-up's briefing to
// its turn.
func (b *Briefer) WakeSlot() WakeSlot { return WakeSlot{b: b} }

var _ companion.TimedSlot = WakeSlot{}

// SlotName is the section heading.
func (WakeSlot) SlotName() string { return "Morning briefing" }

// SlotText answers with the briefer's clock.
func (s WakeSlot) SlotText(ctx context.Context, userID, latest string) (string, error) {
	return s.SlotFor(ctx, companion.SlotInput{UserID: userID, Latest: latest, Now: s.b.d.Clock.Now()})
}

// SlotFor hands over the user's waiting briefing, once, to a turn os1
// starts in a conversation where the user has said nothing (the answered
// wake-up's): a turn answering the user's own words never takes it.
func (s WakeSlot) SlotFor(_ context.Context, in companion.SlotInput) (string, error) {
	if in.Latest != "" {
		return "", nil
	}
	now := in.Now
	if now.IsZero() {
		now = s.b.d.Clock.Now()
	}
	text, ok := s.b.pending.take(in.UserID, now)
	if !ok {
		return "", nil
	}
	return "The user just answered your wake-up call, and your reply is played aloud to them. " +
		"Say good morning, then give this briefing in a few short spoken sentences: no lists, Markdown or symbols, " +
		"times said the way people say them, at most the three things that matter most today. " +
		"Do not mention the weather.\n\n" + text, nil
}

// pendingBriefs are briefings waiting for their turn, per user.
type pendingBriefs struct {
	mu       sync.Mutex
	m        map[string]pendingBrief
	answered map[string]bool // rings answered (user, wake-up, when it fired)
}

// maxAnswered bounds the rings remembered; past it the oldest are
// forgotten all at once (a ring is answered within minutes).
const maxAnswered = 10000

// answer marks a ring answered; false when it was already.
func (p *pendingBriefs) answer(ring string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.answered == nil || len(p.answered) >= maxAnswered {
		p.answered = map[string]bool{}
	}
	if p.answered[ring] {
		return false
	}
	p.answered[ring] = true
	return true
}

func (p *pendingBriefs) unanswer(ring string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.answered, ring)
}

func (p *pendingBriefs) put(userID string, b pendingBrief) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[userID] = b
}

// take returns and forgets the user's briefing if it is still fresh at now.
func (p *pendingBriefs) take(userID string, now time.Time) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.m[userID]
	delete(p.m, userID)
	for id, x := range p.m { // forget the stale ones of others too
		if now.After(x.until) {
			delete(p.m, id)
		}
	}
	if !ok || now.After(b.until) {
		return "", false
	}
	return b.text, true
}
