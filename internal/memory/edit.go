package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/store"
)

// ErrInvalid means a person's edit cannot be made as asked; the error's
// text says why in words for them (the HTTP API answers it with 400).
var ErrInvalid = errors.New("invalid memory edit")

// invalidError is an ErrInvalid whose text is only the reason.
type invalidError struct{ reason string }

func (e *invalidError) Error() string        { return e.reason }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidEdit(format string, a ...any) error {
	return &invalidError{reason: fmt.Sprintf(format, a...)}
}

// ItemKinds are the kinds of item, in the order the memory page lists them.
var ItemKinds = []Kind{KindFact, KindEvent, KindPreference, KindReflection, KindPerson}

// ValidKind reports whether k is one of ItemKinds.
func ValidKind(k Kind) bool { return slices.Contains(ItemKinds, k) }

// Editor is how a person looks after their memory by hand: correcting an
// item, walking back through the beliefs it replaced, forgetting, and
// seeing the people she knows. The HTTP API and the command line share it,
// so an edit is checked the same way wherever it comes from.
type Editor struct {
	Store    Store
	Embedder Embedder // nil: edited text is indexed for full text only
	Clock    clock.Clock
}

// Edit applies p to the user's item id and returns the item as it is now.
// Text is trimmed and must be non-empty and at most MaxItemText characters;
// the kind one of ItemKinds; importance within 0..1; every entity one of
// the user's people. A failed check is ErrInvalid; another user's or a
// missing item is ErrNotFound.
func (e *Editor) Edit(ctx context.Context, userID, id string, p ItemPatch) (Item, error) {
	if p.Text != nil {
		text := strings.TrimSpace(*p.Text)
		if text == "" {
			return Item{}, invalidEdit("a memory needs some text; to remove it, forget it")
		}
		if n := utf8.RuneCountInString(text); n > MaxItemText {
			return Item{}, invalidEdit("memory text is %d characters; the limit is %d", n, MaxItemText)
		}
		p.Text = &text
	}
	if p.Kind != nil && !ValidKind(*p.Kind) {
		return Item{}, invalidEdit("kind %q is not one of fact, event, preference, reflection, person", *p.Kind)
	}
	if p.Importance != nil && (*p.Importance < 0 || *p.Importance > 1) {
		return Item{}, invalidEdit("importance must be between 0 and 1")
	}
	for _, ent := range p.EntityIDs {
		if _, err := e.Store.Entity(ctx, userID, ent); err != nil {
			if isNotFound(err) {
				return Item{}, invalidEdit("no person %s", ent)
			}
			return Item{}, fmt.Errorf("read person %s: %w", ent, err)
		}
	}
	// Check the item is the user's before spending time on a vector.
	if _, err := e.Store.Item(ctx, userID, id); err != nil {
		return Item{}, err
	}
	var vec []float32
	if p.Text != nil && e.Embedder != nil {
		vecs, err := e.Embedder.Embed(ctx, []string{*p.Text})
		if err == nil && len(vecs) != 1 {
			err = fmt.Errorf("%d vectors for one text", len(vecs))
		}
		if err != nil {
			return Item{}, fmt.Errorf("embed the edited memory: %w", err)
		}
		vec = vecs[0]
	}
	if err := e.Store.UpdateItem(ctx, userID, id, p, vec, e.now()); err != nil {
		return Item{}, err
	}
	return e.Store.Item(ctx, userID, id)
}

func (e *Editor) now() time.Time {
	if e.Clock == nil {
		return clock.System{}.Now()
	}
	return e.Clock.Now()
}

// History returns the beliefs item id replaced, newest first.
func (e *Editor) History(ctx context.Context, userID, id string) ([]Item, error) {
	all, err := e.Store.ListItems(ctx, userID, ItemFilter{History: true})
	if err != nil {
		return nil, err
	}
	prev := map[string]Item{} // successor -> predecessor
	for _, it := range all {
		if it.SupersededBy != "" {
			prev[it.SupersededBy] = it
		}
	}
	var out []Item
	seen := map[string]bool{id: true}
	for p, ok := prev[id]; ok && !seen[p.ID]; p, ok = prev[p.ID] {
		seen[p.ID] = true
		out = append(out, p)
	}
	return out, nil
}

// Forget deletes the user's item id from every index; withSources also
// takes its source messages out of the recall index (they stay in their
// conversations). Another user's or a missing item is ErrNotFound.
func (e *Editor) Forget(ctx context.Context, userID, id string, withSources bool) error {
	it, err := e.Store.Item(ctx, userID, id)
	if err != nil {
		return err
	}
	if err := e.Store.Forget(ctx, userID, id); err != nil {
		return err
	}
	if !withSources {
		return nil
	}
	for _, m := range it.Sources {
		if err := e.Store.ForgetMessage(ctx, userID, m); err != nil && !isNotFound(err) {
			return fmt.Errorf("forget source message %s: %w", m, err)
		}
	}
	return nil
}

// Person is one of the people she knows, with how many current items are about them.
type Person struct {
	Entity
	Items int
}

// People lists the people she knows of the user, by name.
func (e *Editor) People(ctx context.Context, userID string) ([]Person, error) {
	ents, err := e.Store.Entities(ctx, userID)
	if err != nil {
		return nil, err
	}
	items, err := e.Store.ListItems(ctx, userID, ItemFilter{})
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, it := range items {
		for _, id := range it.EntityIDs {
			count[id]++
		}
	}
	out := make([]Person, len(ents))
	for i, ent := range ents {
		out[i] = Person{Entity: ent, Items: count[ent.ID]}
	}
	slices.SortFunc(out, func(a, b Person) int {
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// isNotFound is a missing record, from the memory store or the core store.
func isNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, store.ErrNotFound)
}
