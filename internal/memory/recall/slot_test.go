package recall_test

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/recall"
)

func TestSlotRecallsAndRemembersWhatItShowed(t *testing.T) {
	h := memtest.New(t)
	h.Conversation("cnv_1", said("msg_u1", "user", "My sister Catherine moved to Boston.", day0))
	h.Item("mem_boston", memory.KindFact, "Theodore's sister Catherine moved to Boston.", "msg_u1")
	h.Item("mem_tea", memory.KindPreference, "Theodore drinks only tea.", "msg_u1")
	slot := recall.NewSlot(h.Recall, h.DB, h.Echoes, 0)
	if slot.SlotName() != "What you remember" {
		t.Errorf("SlotName = %q", slot.SlotName())
	}
	text, err := slot.SlotText(h.Ctx, h.User.ID, "How is Catherine settling in?")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Catherine moved to Boston") || strings.Contains(text, "tea") {
		t.Errorf("slot text = %q", text)
	}
	recent := strings.Join(h.Echoes.Recent(h.User.ID), "\n")
	if !strings.Contains(recent, "Theodore's sister Catherine moved to Boston.") {
		t.Errorf("echoes = %q; the slot's text must be remembered for the extractor", recent)
	}
	if other := h.Echoes.Recent("usr_other"); len(other) != 0 {
		t.Errorf("another user's echoes = %v", other)
	}

	// A budget too small for any line leaves the section out.
	small := recall.NewSlot(h.Recall, h.DB, nil, 5)
	if text, err := small.SlotText(h.Ctx, h.User.ID, "How is Catherine settling in?"); err != nil || text != "" {
		t.Errorf("tiny budget gave %q, %v", text, err)
	}
}

func TestEchoesAreBounded(t *testing.T) {
	e := memory.NewEchoes()
	for i := range 100 {
		e.Remember("u", strings.Repeat("x", i+1))
	}
	e.Remember("u", "x") // seen before: moves to the newest end
	got := e.Recent("u")
	if len(got) != 64 || got[len(got)-1] != "x" || got[0] != strings.Repeat("x", 38) {
		t.Errorf("kept %d, newest %q", len(got), got[len(got)-1])
	}
	var nilEchoes *memory.Echoes
	if nilEchoes.Recent("u") != nil {
		t.Error("a nil Echoes must read as empty")
	}
}
