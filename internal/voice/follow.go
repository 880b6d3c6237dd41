package voice

import (
	"iter"

	"github.com/os1ai/os1/internal/companion"
)

// A call follows its user's events for its whole life (issue 9), so that a
// turn started elsewhere in the call's conversation (a message typed in
// another tab, a reply os1 starts itself) shows on the call's client as
// captions. Such turns are not spoken: the call speaks only the turns it
// starts.
//
// The call's own turns reach it twice, through the stream Send returns (which
// holds every delta, and drives speech) and through the subscription. The
// call keeps the first and drops the second, so each event reaches the client
// once. Every turn starts with `conversation`, and a turn the call started
// has its user message next: runReply records that message's ID before it
// lets the follower judge a turn (the gate), so the follower can tell the
// call's turns from the others without a race, whatever the bus.

// followedTurn is a turn the subscription saw begin, until its turn_done.
type followedTurn struct {
	decided bool
	own     bool              // started by this call: the subscription's copy is dropped
	pending []companion.Event // its `conversation` event, until decided
}

// follow forwards the subscription's events of the call's conversation that
// come from turns the call did not start. It ends with the call; a
// subscription that the bus cut off (too slow) is renewed after telling the
// client to re-read.
func (s *Session) follow(events iter.Seq[companion.Event]) {
	defer close(s.followed)
	for {
		turns := map[string]*followedTurn{}
		for ev := range events {
			s.route(turns, ev)
		}
		if s.ctx.Err() != nil {
			return
		}
		// Cut off: what was published since is lost; the client re-reads.
		if conv := s.conversation(); conv != "" {
			s.out.event(companion.Event{Type: companion.EvLagged, ConversationID: conv})
		}
		events = s.p.d.Companion.Subscribe(s.ctx, s.user)
	}
}

// route forwards one event of the subscription, or drops it.
func (s *Session) route(turns map[string]*followedTurn, ev companion.Event) {
	conv := ev.ConversationID
	if mine := s.conversation(); conv == "" || (mine != "" && conv != mine) {
		delete(turns, conv)
		return // not about this call's conversation (memory_changed, another conversation)
	}
	if ev.Type == companion.EvConversation {
		turns[conv] = &followedTurn{pending: []companion.Event{ev}}
		return
	}
	t := turns[conv]
	if t == nil {
		// A turn that began before this subscription: the call was started
		// (or re-subscribed) while it ran. It is the call's own only if the
		// call's reply is running there now.
		t = &followedTurn{decided: true, own: s.ownTurnRunning(conv)}
		turns[conv] = t
	}
	if !t.decided {
		t.decided = true
		if ev.Type == companion.EvUserMessage && ev.Message != nil {
			// Wait until runReply has recorded the user message of a turn it
			// is starting: a turn the follower sees was started before this.
			s.gate.Lock()
			t.own = s.takeOwn(ev.Message.ID)
			s.gate.Unlock()
		}
		if !t.own {
			for _, p := range t.pending {
				s.forward(p)
			}
		}
		t.pending = nil
	}
	if !t.own {
		s.forward(ev)
	}
	if ev.Type == companion.EvTurnDone {
		delete(turns, conv)
	}
}

// forward sends a caption of another turn, if it is in the call's
// conversation (a call that began without one learns it from its first turn).
func (s *Session) forward(ev companion.Event) {
	if ev.ConversationID == s.conversation() {
		s.out.event(ev)
	}
}

func (s *Session) conversation() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conv
}

// ownTurn records the user message of a turn this call started.
func (s *Session) ownTurn(messageID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.own[messageID] = struct{}{}
}

// takeOwn reports whether messageID began a turn of this call, and forgets it.
func (s *Session) takeOwn(messageID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.own[messageID]
	delete(s.own, messageID)
	return ok
}

// ownTurnRunning reports whether this call's latest reply is a turn still
// running in conv.
func (s *Session) ownTurnRunning(conv string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reply
	return r != nil && r.conv == conv && !r.turnOver
}
