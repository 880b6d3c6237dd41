package app

import (
	"context"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
)

// warmTimeout bounds the background embedding warmSlot starts.
const warmTimeout = 10 * time.Second

// warmSlot is the recall slot, which starts embedding the user's message
// before recall asks for it. Recall searches the full text first and embeds
// after; started here, the embedding runs beside the text search (the
// cached embedder embeds a text once and hands its vector to both).
type warmSlot struct {
	companion.Slot
	emb   *embed.Cached
	clock clock.Clock
}

var _ companion.WarmingSlot = warmSlot{}

// warmRecall wraps the recall slot when the embedder is the cached one
// (no embedder: full-text recall only, nothing to warm).
func warmRecall(s companion.Slot, emb memory.Embedder, clk clock.Clock) companion.Slot {
	c, ok := emb.(*embed.Cached)
	if !ok || c == nil {
		return s
	}
	return warmSlot{Slot: s, emb: c, clock: clk}
}

// Warm starts embedding the text recall will embed (companion.WarmingSlot:
// Send calls it before storing the message).
func (w warmSlot) Warm(latest string) {
	if text := semanticText(latest, w.clock.Now()); text != "" {
		w.emb.Warm(text, warmTimeout)
	}
}

// SlotText warms the text recall will embed (when Send has not already),
// then recalls.
func (w warmSlot) SlotText(ctx context.Context, userID, latest string) (string, error) {
	w.Warm(latest)
	return w.Slot.SlotText(ctx, userID, latest)
}

// semanticText is what recall embeds for a message: the message, less a
// time phrase it names ("last week"), which becomes a date range instead;
// "" when nothing is left to embed.
func semanticText(latest string, now time.Time) string {
	if strings.TrimSpace(latest) == "" {
		return ""
	}
	if rest, _, _, ok := recall.ParseTime(latest, now, time.UTC); ok {
		if strings.TrimSpace(rest) == "" {
			return ""
		}
		return rest
	}
	return latest
}
