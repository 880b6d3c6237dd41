package companion_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/attach/sqliteattach"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

var catPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR a cat")

// TestAttachmentsReachTheModel: a text file is quoted into the message
// under its name, an image goes as an image part, both are stored with the
// message, and older images are only named once ImageTurns newer user
// messages follow.
func TestAttachmentsReachTheModel(t *testing.T) {
	r := testrig.New(t)
	as := sqliteattach.New(r.DB)
	c := r.Companion(companion.Deps{Models: fixedModel{r.Provider()}, Attachments: as, Clock: clock.System{}}, companion.Options{FlushEvery: 10 * time.Millisecond})
	u := r.User("theo", store.RoleOwner)
	ctx := context.Background()

	r.LLM.Enqueue(llmtest.Reply{Chunks: []string{"A cat, and your notes."}})
	files := []attach.Upload{{Name: "notes.txt", Data: []byte("buy milk\n")}, {Name: "cat.png", Data: catPNG}}
	evs, err := c.Send(ctx, u.ID, "", "What do you see?", companion.SendOptions{Files: files})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, evs)
	conv := convOf(got)
	var userEv *companion.Event
	for i := range got {
		if got[i].Type == companion.EvUserMessage {
			userEv = &got[i]
		}
	}
	if userEv == nil || len(userEv.Attachments) != 2 || userEv.Attachments[0].Name != "notes.txt" ||
		userEv.Attachments[1].MIME != "image/png" || userEv.Attachments[1].Data != nil || userEv.Attachments[0].ID == "" {
		t.Fatalf("user_message event attachments = %+v", userEv)
	}

	reqs := r.LLM.Requests()
	last := reqs[0].Messages[len(reqs[0].Messages)-1]
	want := "What do you see?\n\nFile notes.txt:\n```\nbuy milk\n```\n\n[Image attached: cat.png]"
	if last.Role != llm.RoleUser || last.Content != want {
		t.Errorf("the model read %q, want %q", last.Content, want)
	}
	if len(last.Images) != 1 || last.Images[0].MIME != "image/png" || !bytes.Equal(last.Images[0].Data, catPNG) {
		t.Errorf("image parts = %+v, want the cat as image/png", last.Images)
	}

	msgs, err := r.DB.Messages(ctx, u.ID, conv)
	if err != nil || len(msgs) != 2 || msgs[0].Content != "What do you see?" {
		t.Fatalf("stored messages = %+v, %v (the text is stored as typed)", msgs, err)
	}
	listed, err := as.List(ctx, u.ID, []string{msgs[0].ID})
	if err != nil || len(listed[msgs[0].ID]) != 2 {
		t.Fatalf("stored attachments = %+v, %v", listed, err)
	}

	// Two more user messages: the cat is then only named, the notes still quoted.
	for i, text := range []string{"And now?", "One more."} {
		r.LLM.Enqueue(llmtest.Reply{Chunks: []string{"Yes."}})
		evs, err := c.Send(ctx, u.ID, conv, text)
		if err != nil {
			t.Fatal(err)
		}
		collect(t, evs)
		req := r.LLM.Requests()[i+1]
		first := req.Messages[0]
		if first.Content != want {
			t.Errorf("turn %d: first message = %q, want the quoted file and the image's name", i+2, first.Content)
		}
		if wantImages := map[int]int{0: 1, 1: 0}[i]; len(first.Images) != wantImages {
			t.Errorf("turn %d: the first message carried %d images, want %d (images ride along for %d user messages)",
				i+2, len(first.Images), wantImages, companion.ImageTurns)
		}
	}
}

// TestAttachmentsCheckedBeforeStoring: a file that breaks a limit fails
// Send before anything is stored, and an image-only message is accepted.
func TestAttachmentsCheckedBeforeStoring(t *testing.T) {
	r := testrig.New(t)
	c := r.Companion(companion.Deps{Models: fixedModel{r.Provider()}, Attachments: sqliteattach.New(r.DB), Clock: clock.System{}}, companion.Options{FlushEvery: 10 * time.Millisecond})
	u := r.User("theo", store.RoleOwner)
	ctx := context.Background()
	conv, err := c.CreateConversation(ctx, u.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		files []attach.Upload
		want  error
	}{
		{[]attach.Upload{{Name: "a.out", Data: []byte("\x7fELF\x00\x01")}}, attach.ErrUnsupported},
		{[]attach.Upload{{Name: "big.txt", Data: bytes.Repeat([]byte("a"), attach.MaxTextBytes+1)}}, attach.ErrTooBig},
		{make([]attach.Upload, attach.MaxFiles+1), attach.ErrTooMany},
	} {
		if _, err := c.Send(ctx, u.ID, conv.ID, "hi", companion.SendOptions{Files: tc.files}); !errors.Is(err, tc.want) {
			t.Errorf("Send = %v, want %v", err, tc.want)
		}
	}
	if msgs, _ := r.DB.Messages(ctx, u.ID, conv.ID); len(msgs) != 0 {
		t.Fatalf("a refused send stored %d messages", len(msgs))
	}
	r.LLM.Enqueue(llmtest.Reply{Chunks: []string{"A cat."}})
	evs, err := c.Send(ctx, u.ID, conv.ID, "", companion.SendOptions{Files: []attach.Upload{{Name: "cat.png", Data: catPNG}}})
	if err != nil {
		t.Fatalf("an image without text: %v", err)
	}
	collect(t, evs)
	if m := r.LLM.Requests()[0].Messages[0]; !strings.HasPrefix(m.Content, "[Image attached: cat.png]") || len(m.Images) != 1 {
		t.Errorf("model got %q with %d images", m.Content, len(m.Images))
	}
	// Without an attachment store, files are refused in words.
	plain := r.Companion(companion.Deps{Models: fixedModel{r.Provider()}}, companion.Options{})
	if _, err := plain.Send(ctx, u.ID, conv.ID, "hi", companion.SendOptions{Files: []attach.Upload{{Name: "cat.png", Data: catPNG}}}); !errors.Is(err, companion.ErrNoAttachments) {
		t.Errorf("Send without a store = %v, want ErrNoAttachments", err)
	}
}
