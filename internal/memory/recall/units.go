package recall

import (
	"context"
	"fmt"
	"slices"

	"github.com/os1ai/os1/internal/memory"
)

// Context units: a message hit is returned with the turn right before it in
// its conversation — for her reply, the user's question it answers; for a
// user's turn, what the companion said before it — so a reply that reads
// "Yes, the one on Maple Street" comes with the question that says what it
// is about. The neighbour's ID joins the hit's Sources and its text (clipped
// to unitRunes) is put in front of the hit's, "(before: …) ", so whatever
// shows or prompts with the hit carries the context its sources claim.
// Units are made at search time from the conversation's tree; nothing is
// indexed for them.

// unitRunes is how much of the neighbour's text a unit carries: enough for
// a question, little enough that the prompt's and the tool's budgets hold.
const unitRunes = 200

// TurnReader is what a Store implements for context units (sqlitemem.Store
// does). Recall and Search work without it, and then return single turns.
type TurnReader interface {
	// PreviousTurns returns, for each of the user's messages in ids, the
	// turn right before it in its conversation, the same user's; messages
	// without one are absent.
	PreviousTurns(ctx context.Context, userID string, ids []string) (map[string]memory.Hit, error)
}

// unitPrefix is what a unit puts in front of its hit's text.
func unitPrefix(before memory.Hit) string {
	return "(before: " + memory.ClipRunes(memory.SingleLine(before.Text), unitRunes) + ") "
}

// withUnits attaches to each message hit the turn before it, in one read
// of the store, unless that turn is itself one of hits or already attached
// to a better hit. It returns, for each hit, the bytes put in front of its
// text (0 for none). hits is changed in place; Sources are copied, never
// appended to the store's slices.
func (r *Recaller) withUnits(ctx context.Context, userID string, hits []memory.Hit) ([]int, error) {
	tr, ok := r.s.(TurnReader)
	if !ok || len(hits) == 0 {
		return nil, nil
	}
	var ids []string
	taken := map[string]bool{} // message IDs a hit already carries
	for _, h := range hits {
		if h.Kind == memory.DocMessage {
			ids = append(ids, h.ID)
			taken[h.ID] = true
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	before, err := tr.PreviousTurns(ctx, userID, ids)
	if err != nil {
		return nil, fmt.Errorf("read the turns before %d hits: %w", len(ids), err)
	}
	shift := make([]int, len(hits))
	for i := range hits {
		h := &hits[i]
		if h.Kind != memory.DocMessage {
			continue
		}
		b, ok := before[h.ID]
		if !ok || taken[b.ID] || slices.Contains(h.Sources, b.ID) {
			continue
		}
		taken[b.ID] = true
		p := unitPrefix(b)
		h.Text = p + h.Text
		h.Sources = append(slices.Clip(h.Sources), b.ID)
		shift[i] = len(p)
	}
	return shift, nil
}
