package extract_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
)

// workHarness is the shared rig (memtest) with this package's helpers.
type workHarness struct{ *memtest.Harness }

func newWorkHarness(t *testing.T) *workHarness { return &workHarness{memtest.New(t)} }

var day0 = memtest.Day0

func said(id, role, text string, at time.Time) memtest.Said {
	return memtest.Said{ID: id, Role: role, Text: text, At: at}
}

// batch reads a stored conversation as the worker would hand it over.
func (h *workHarness) batch(conv string) extract.Batch {
	h.T.Helper()
	msgs, err := h.DB.Messages(h.Ctx, h.User.ID, conv)
	h.Must(err)
	return extract.Batch{UserID: h.User.ID, ConversationID: conv, UserName: "Theodore", CompanionName: "Samantha",
		Loc: h.Berlin, Messages: msgs, Prompt: []string{"warm and calm", "Writing letters for people.", "Not very, lately."}}
}

func (h *workHarness) extractor(emb memory.Embedder, o extract.Options) *extract.Extractor {
	return extract.New(extract.Deps{Memory: h.Mem, Recall: h.Recall, Models: h.Models, Embedder: emb,
		Echoes: h.Echoes, Clock: h.Clock, Meter: h.Meter}, o)
}
