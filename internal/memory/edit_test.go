package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
)

func ptr[T any](v T) *T { return &v }

func TestEditorEditValidates(t *testing.T) {
	h := newWorkHarness(t)
	h.Item("itm_tea", memory.KindPreference, "Loves green tea.", "msg_1")
	ed := &memory.Editor{Store: h.Mem, Clock: h.Clock}
	for _, c := range []struct {
		name string
		p    memory.ItemPatch
		want string
	}{
		{"empty text", memory.ItemPatch{Text: ptr("   ")}, "needs some text"},
		{"long text", memory.ItemPatch{Text: ptr(strings.Repeat("é", memory.MaxItemText+1))}, "the limit is 2000"},
		{"kind", memory.ItemPatch{Kind: ptr(memory.Kind("rumour"))}, `kind "rumour" is not one of`},
		{"importance", memory.ItemPatch{Importance: ptr(1.5)}, "between 0 and 1"},
		{"person", memory.ItemPatch{EntityIDs: []string{"ent_nobody"}}, "no person ent_nobody"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ed.Edit(h.Ctx, h.User.ID, "itm_tea", c.p)
			if !errors.Is(err, memory.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Edit: %v, want ErrInvalid saying %q", err, c.want)
			}
		})
	}
	if _, err := ed.Edit(h.Ctx, "usr_other", "itm_tea", memory.ItemPatch{Text: ptr("mine now")}); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("editing another user's memory: %v, want ErrNotFound", err)
	}
}

func TestEditorEditTrimsAndEmbeds(t *testing.T) {
	h := newWorkHarness(t)
	h.Item("itm_tea", memory.KindPreference, "Loves green tea.", "msg_1")
	emb := &fixedEmbedder{}
	ed := &memory.Editor{Store: h.Mem, Embedder: emb, Clock: h.Clock}
	when := day0.Add(24 * time.Hour)
	it, err := ed.Edit(h.Ctx, h.User.ID, "itm_tea", memory.ItemPatch{Text: ptr("  Loves jasmine tea. "),
		Kind: ptr(memory.KindFact), Importance: ptr(0.9), EventTime: &when})
	if err != nil {
		t.Fatal(err)
	}
	if it.Text != "Loves jasmine tea." || it.Kind != memory.KindFact || it.Importance != 0.9 || !it.EventTime.Equal(when) {
		t.Fatalf("edited item = %+v", it)
	}
	if len(emb.texts) != 1 || emb.texts[0] != "Loves jasmine tea." {
		t.Fatalf("embedded %q, want the trimmed text once", emb.texts)
	}
}

func TestEditorHistoryWalksBackNewestFirst(t *testing.T) {
	h := newWorkHarness(t)
	h.Item("itm_1", memory.KindFact, "Lives in Leeds.", "msg_1")
	for i, next := range []string{"itm_2", "itm_3"} {
		prev := []string{"itm_1", "itm_2"}[i]
		h.Must(h.Mem.Supersede(h.Ctx, h.User.ID, prev, memory.Item{ID: next, UserID: h.User.ID, Kind: memory.KindFact,
			Text: "Lives in " + next, Sources: []string{"msg_1"}, ValidFrom: day0, CreatedAt: day0}, nil, day0.Add(time.Duration(i)*time.Hour)))
	}
	ed := &memory.Editor{Store: h.Mem}
	hist, err := ed.History(h.Ctx, h.User.ID, "itm_3")
	h.Must(err)
	if len(hist) != 2 || hist[0].ID != "itm_2" || hist[1].ID != "itm_1" {
		t.Fatalf("history = %v, want itm_2 then itm_1", hist)
	}
	if hist, _ := ed.History(h.Ctx, h.User.ID, "itm_1"); len(hist) != 0 {
		t.Fatalf("the first belief has history %v", hist)
	}
}

func TestEditorForget(t *testing.T) {
	h := newWorkHarness(t)
	h.Item("itm_tea", memory.KindPreference, "Loves green tea.", "msg_1")
	ed := &memory.Editor{Store: h.Mem}
	if err := ed.Forget(h.Ctx, "usr_other", "itm_tea", false); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("forgetting another user's memory: %v, want ErrNotFound", err)
	}
	// Its source was never indexed: forgetting it is no error.
	h.Must(ed.Forget(h.Ctx, h.User.ID, "itm_tea", true))
	if _, err := h.Mem.Item(h.Ctx, h.User.ID, "itm_tea"); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("after Forget: %v", err)
	}
}

// fixedEmbedder records the texts it embeds and returns one small vector each.
type fixedEmbedder struct{ texts []string }

func (f *fixedEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	f.texts = append(f.texts, texts...)
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{1, 0, 0}
	}
	return out, nil
}
