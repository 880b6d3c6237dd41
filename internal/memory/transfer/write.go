package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// writer writes an import and remembers what it wrote, so that a failure
// halfway can remove it again (the core and memory stores share no
// transaction across their interfaces).
type writer struct {
	t        *Transfer
	u        store.User
	convs    []string
	indexed  []string
	entities []string
	items    []string
	journals []string // days written; they cannot be removed, undo says so
}

// guarded runs f, turning a panic (the SQLite driver panics when it runs
// out of memory) into an error, so that the caller still removes what was
// written.
func (w *writer) guarded(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("import failed while writing (%v); nothing was imported", r)
		}
	}()
	return f()
}

// undoTimeout bounds the clean-up after a failed import; it runs even when
// the import's context was cancelled (Ctrl-C).
const undoTimeout = time.Minute

// undo removes what was written, best effort: the caller reports the
// original error, not a failure to clean up.
func (w *writer) undo() {
	ctx, cancel := context.WithTimeout(context.Background(), undoTimeout)
	defer cancel()
	for _, id := range w.items {
		_ = w.t.Memory.Forget(ctx, w.u.ID, id)
	}
	for _, id := range w.entities {
		_ = w.t.Memory.DeleteEntity(ctx, w.u.ID, id)
	}
	for _, id := range w.indexed {
		_ = w.t.Memory.ForgetMessage(ctx, w.u.ID, id)
	}
	for _, id := range w.convs {
		_ = w.t.Core.DeleteConversation(ctx, w.u.ID, id)
		if w.t.Watermarks != nil {
			_ = w.t.Watermarks.ForgetWatermark(ctx, id)
		}
	}
}

// mark records conversations as processed by the memory worker up to their
// last message: indexed, and when extracted is true extracted too.
func (w *writer) mark(ctx context.Context, last map[string]string, extracted bool) error {
	if w.t.Watermarks == nil {
		return nil
	}
	for _, conv := range w.convs {
		id, ok := last[conv]
		if !ok {
			continue // no messages: nothing to process
		}
		wm := memory.Watermark{Indexed: id}
		if extracted {
			wm.Extracted = id
		}
		if err := w.t.Watermarks.SetWatermark(ctx, conv, wm); err != nil {
			return fmt.Errorf("record conversation %s as indexed: %w", conv, err)
		}
	}
	return nil
}

func (w *writer) write(ctx context.Context, ex *Export, persona *store.Persona, profile *store.Profile) error {
	var docs []memory.MessageDoc
	last := map[string]string{}
	speaker := w.speakers(ctx, ex)
	for _, c := range ex.Conversations {
		// A title is cleaned as the API cleans it: one line, no hidden characters.
		conv := store.Conversation{ID: c.ID, UserID: w.u.ID, Title: textsafe.CleanTitle(c.Title), CreatedAt: c.CreatedAt, UpdatedAt: c.CreatedAt}
		if err := w.t.Core.CreateConversation(ctx, conv); err != nil {
			return importError(err, "conversation", c.ID)
		}
		w.convs = append(w.convs, c.ID)
		for _, em := range c.Messages {
			if em.Role == string(store.RoleTool) {
				continue // see checkMessage
			}
			m, err := importMessage(w.u.ID, c.ID, em)
			if err != nil {
				return err
			}
			if err := w.t.Core.AppendMessage(ctx, m); err != nil {
				return importError(err, "message", m.ID)
			}
			if d, ok := memory.MessageDocOf(m, speaker(m.Role)); ok {
				docs = append(docs, d)
			}
			last[c.ID] = m.ID
		}
		// Appending moved UpdatedAt to the last message; a later rename
		// may have set it later still.
		if err := w.t.Core.RenameConversation(ctx, w.u.ID, c.ID, textsafe.CleanTitle(c.Title), c.UpdatedAt); err != nil {
			return fmt.Errorf("import conversation %s: %w", c.ID, err)
		}
	}
	for _, e := range ex.Entities {
		ent := memory.Entity{ID: e.ID, UserID: w.u.ID, Name: e.Name, Aliases: e.Aliases, Relation: e.Relation, Notes: e.Notes,
			Sources: e.Sources, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
		if err := w.t.Memory.SaveEntity(ctx, ent); err != nil {
			return importError(err, "person", e.ID)
		}
		w.entities = append(w.entities, e.ID)
	}
	if err := w.addItems(ctx, ex.Items); err != nil {
		return err
	}
	if err := w.t.indexMessages(ctx, docs, func(id string) { w.indexed = append(w.indexed, id) }); err != nil {
		return err
	}
	if err := w.mark(ctx, last, true); err != nil {
		return err
	}
	if err := w.saveJournals(ctx, ex.Journals); err != nil {
		return err
	}
	if profile != nil {
		if err := w.t.Core.SaveProfile(ctx, *profile); err != nil {
			return fmt.Errorf("import profile: %w", err)
		}
	}
	if persona != nil {
		if err := w.t.Core.SavePersona(ctx, *persona); err != nil {
			return fmt.Errorf("import persona: %w", err)
		}
	}
	return nil
}

// speakers names who said a message, for the recall index: the user's
// display name, and the companion's name.
func (w *writer) speakers(ctx context.Context, ex *Export) func(store.MessageRole) string {
	user := cmpOr(w.u.DisplayName, w.u.Username)
	her := "assistant"
	if p, err := w.t.Core.Persona(ctx, w.u.ID); err == nil && p.Name != "" {
		her = p.Name
	} else if ex.Persona != nil && ex.Persona.Name != "" {
		her = ex.Persona.Name
	}
	return func(r store.MessageRole) string {
		if r == store.RoleUser {
			return user
		}
		return her
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// importMessage is the stored form of a message from a file, without its
// tool calls (see checkMessage).
func importMessage(userID, convID string, em ExportMessage) (store.Message, error) {
	return store.Message{ID: em.ID, ConversationID: convID, UserID: userID, Role: store.MessageRole(em.Role), Content: em.Content,
		Status: store.MessageStatus(em.Status), Error: em.Error, Reason: em.Reason, CreatedAt: em.CreatedAt, UpdatedAt: em.UpdatedAt}, nil
}

func importError(err error, what, id string) error {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, memory.ErrDuplicate) {
		return fmt.Errorf("import %s %s: its ID is %w in this database; nothing was imported", what, id, ErrConflict)
	}
	return fmt.Errorf("import %s %s: %w", what, id, err)
}

func (w *writer) addItems(ctx context.Context, in []ExportItem) error {
	texts := make([]string, len(in))
	for i, it := range in {
		texts[i] = it.Text
	}
	return w.t.embedEach(ctx, texts, func(i int, vec []float32) error {
		it := in[i]
		item := memory.Item{ID: it.ID, UserID: w.u.ID, Kind: memory.Kind(it.Kind), Text: it.Text, EntityIDs: it.EntityIDs, Sources: it.Sources,
			Confidence: it.Confidence, Importance: it.Importance, EventTime: it.EventTime, ValidFrom: it.ValidFrom,
			ValidTo: it.ValidTo, SupersededBy: it.SupersededBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
		if err := w.t.Memory.AddItem(ctx, item, vec); err != nil {
			return importError(err, "memory", it.ID)
		}
		w.items = append(w.items, it.ID)
		return nil
	})
}

func (w *writer) saveJournals(ctx context.Context, in []ExportJournal) error {
	texts := make([]string, len(in))
	for i, j := range in {
		texts[i] = j.Text
	}
	return w.t.embedEach(ctx, texts, func(i int, vec []float32) error {
		j := in[i]
		if err := w.t.Memory.SaveJournal(ctx, memory.Journal{ID: j.ID, UserID: w.u.ID, Day: j.Day, Text: j.Text, Sources: j.Sources, CreatedAt: j.CreatedAt}, vec); err != nil {
			err = importError(err, "journal of", j.Day)
			if len(w.journals) > 0 {
				err = fmt.Errorf("%w (the journal entries of %v were already written and stay)", err, w.journals)
			}
			return err
		}
		w.journals = append(w.journals, j.Day)
		return nil
	})
}

// indexMessages makes docs recallable, embedding them in batches when an
// embedder is set, and reports progress. done hears each indexed ID.
func (t *Transfer) indexMessages(ctx context.Context, docs []memory.MessageDoc, done func(id string)) error {
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Text
	}
	n := 0
	return t.embedEach(ctx, texts, func(i int, vec []float32) error {
		if err := t.Memory.IndexMessage(ctx, docs[i], vec); err != nil {
			return fmt.Errorf("index message %s for recall: %w", docs[i].ID, err)
		}
		done(docs[i].ID)
		n++
		t.progress("indexed", n, len(docs))
		return nil
	})
}

func (t *Transfer) progress(stage string, done, total int) {
	if t.OnProgress != nil {
		t.OnProgress(stage, done, total)
	}
}

// embedEach embeds texts in batches (when an embedder is set) and calls fn
// with each text's index and vector (nil without an embedder).
func (t *Transfer) embedEach(ctx context.Context, texts []string, fn func(i int, vec []float32) error) error {
	size := t.BatchSize
	if size <= 0 {
		size = 64
	}
	for start := 0; start < len(texts); start += size {
		end := min(start+size, len(texts))
		var vecs [][]float32
		if t.Embedder != nil {
			var err error
			vecs, err = t.Embedder.Embed(ctx, texts[start:end])
			if err != nil {
				return fmt.Errorf("embed texts %d-%d of %d: %w", start+1, end, len(texts), err)
			}
			if len(vecs) != end-start {
				return fmt.Errorf("embed texts %d-%d of %d: the embedder returned %d vectors", start+1, end, len(texts), len(vecs))
			}
		}
		for i := start; i < end; i++ {
			var vec []float32
			if vecs != nil {
				vec = vecs[i-start]
			}
			if err := fn(i, vec); err != nil {
				return err
			}
		}
	}
	return nil
}
