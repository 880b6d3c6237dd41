package contacttools_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/contacts/contacttools"
	"github.com/os1ai/os1/internal/contacts/sqlitecontacts"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/mail/mailtools/toolstest"
)

// "Text my sister", the whole way with the real mail tools: the lookup
// finds her and says os1 cannot text; she offers an email, and the
// mail_send she proposes to the address the lookup gave waits for the
// user's approval — nothing leaves before the yes, the email after it.
func TestTextMySisterBecomesAnApprovedEmail(t *testing.T) {
	h := toolstest.New(t)
	svc := &contacts.Service{Store: sqlitecontacts.New(h.Rig.DB), Clock: h.Rig.Clock, IDs: clock.NewFakeIDs()}
	if _, err := svc.Create(t.Context(), h.User.ID, contacts.Contact{Name: "Catherine Lima", Relation: "sister",
		Handles: []contacts.Handle{{Kind: "phone", Value: "+34 600 111 222"}, {Kind: "email", Value: "cathy@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	if err := contacttools.Register(h.Tools, svc); err != nil {
		t.Fatal(err)
	}
	lookup, _ := json.Marshal(map[string]string{"who": "my sister"})
	h.Rig.LLM.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "contacts_lookup", Arguments: lookup}}},
		llmtest.Reply{Chunks: []string{"I can't send text messages, but I can email Catherine at cathy@example.org. Shall I?"}})
	evs := h.Turn("", "text my sister that I'm running late")
	if p := toolstest.Pending(evs); len(p) != 0 {
		t.Fatalf("the lookup asked for approval: %+v", p[0])
	}
	conv := toolstest.ConversationOf(evs)
	if got := h.ToolResults(conv)["c1"]; !strings.Contains(got, "cannot text") || !strings.Contains(got, "cathy@example.org") {
		t.Fatalf("the lookup told the model:\n%s", got)
	}

	send, _ := json.Marshal(map[string]any{"to": []string{"Catherine Lima <cathy@example.org>"}, "subject": "Running late", "body": "I'm running late."})
	h.Rig.LLM.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c2", Name: "mail_send", Arguments: send}}})
	pending := toolstest.Pending(h.Turn(conv, "yes, email her"))
	if len(pending) != 1 || !strings.Contains(pending[0].Summary, "cathy@example.org") {
		t.Fatalf("the email did not wait for approval with its recipient: %+v", pending)
	}
	if d := h.Sink.Deliveries(); len(d) != 0 {
		t.Fatalf("mail left before the yes: %+v", d)
	}
	h.Rig.LLM.Enqueue(llmtest.Reply{Chunks: []string{"Sent."}})
	h.Decide(pending[0].ID, true)
	d := h.Sink.Deliveries()
	if len(d) != 1 || len(d[0].Rcpts) != 1 || d[0].Rcpts[0] != "cathy@example.org" || !strings.Contains(string(d[0].Data), "running late") {
		t.Fatalf("after the yes: %+v", d)
	}
}
