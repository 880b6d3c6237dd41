package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/store"
)

// extract runs memory extraction over freshly imported conversations, in
// batches, recording each batch in the conversation's watermark: if it stops
// (model down, Ctrl-C), `os1 serve` goes on from there. When the transcript
// has one other speaker, extraction takes them for "her" (the assistant
// role), so a chat between two people reads as it was.
func (e *env) extract(ctx context.Context, m *memEnv, mm *models.Manager, convs, others []string) error {
	opts := recall.DefaultOptions()
	ex := extract.New(extract.Deps{Memory: m.mem, Recall: recall.New(m.mem, m.emb, m.clock, opts),
		Models: mm, Embedder: m.emb, Clock: m.clock}, extract.Options{})
	marks := m.mem.Progress()
	b, err := m.batch(ctx)
	if err != nil {
		return err
	}
	if len(others) == 1 {
		b.CompanionName = others[0]
	}
	type job struct {
		conv string
		msgs []store.Message
	}
	var jobs []job
	total := 0
	for _, c := range convs {
		msgs, err := m.db.Messages(ctx, m.user.ID, c)
		if err != nil {
			return err
		}
		for part := range extract.Batches(msgs, extract.DefaultBatchMessages) {
			jobs = append(jobs, job{c, part})
			total += len(part)
		}
	}
	start := m.clock.Now()
	report := e.progress(m.clock)
	done, added, changed := 0, 0, 0
	for _, j := range jobs {
		b.ConversationID, b.Messages = j.conv, j.msgs
		res, err := ex.Extract(ctx, b)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				err = errors.New("interrupted")
			}
			return fmt.Errorf("extraction stopped after %d of %d messages (%d memories so far): %w\n"+
				"The imported messages are kept and indexed; `os1 serve` extracts the rest once the model answers", done, total, added, err)
		}
		added += len(res.Added)
		changed += len(res.Superseded) + len(res.Invalidated)
		last := j.msgs[len(j.msgs)-1].ID
		if err := marks.SetWatermark(ctx, j.conv, memory.Watermark{Indexed: lastIndexed(ctx, marks, j.conv, last), Extracted: last}); err != nil {
			return err
		}
		done += len(j.msgs)
		report("extracted memories from", done, total)
	}
	took := m.clock.Now().Sub(start)
	fmt.Fprintf(e.stdout, "Extracted %d memories (%d beliefs changed) from %d messages in %s (%.1f messages/s, %d model calls).\n",
		added, changed, total, took.Round(time.Millisecond), float64(total)/max(took.Seconds(), 1e-9), len(jobs))
	return nil
}

// lastIndexed keeps the conversation's indexed watermark (the import set it
// to its last message), falling back to last.
func lastIndexed(ctx context.Context, p memory.Progress, conv, last string) string {
	if w, err := p.Watermark(ctx, conv); err == nil && w.Indexed != "" {
		return w.Indexed
	}
	return last
}

// batch is who is talking, and what her system prompt holds (never to be
// taken for a memory), gathered as the server's memory worker does.
func (m *memEnv) batch(ctx context.Context) (extract.Batch, error) {
	return extract.BatchFor(ctx, m.db, m.user.ID, "")
}
