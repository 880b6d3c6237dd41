package mailtools_test

import (
	"context"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/mail/mailtools/toolstest"
	"github.com/os1ai/os1/internal/store"
)

// TestAddRuleWaitsForYes: a rule said in the chat is proposed with how os1
// understood it, kept only after the user's yes; one os1 can't read is
// said back, and nothing is kept.
func TestAddRuleWaitsForYes(t *testing.T) {
	h := toolstest.New(t)
	ctx := context.Background()
	h.Rig.LLM.Enqueue(reply(call("c1", "mail_add_rule", map[string]any{"text": "archive newsletters unless they're from the climbing club"})))
	evs := h.Turn("", "from now on archive newsletters unless they're from the climbing club")
	p := toolstest.Pending(evs)
	if len(p) != 1 || !strings.Contains(p[0].Summary, "Add the mail rule “archive newsletters unless they're from the climbing club”. Understood as:") ||
		!strings.Contains(strings.ToLower(p[0].Summary), "climbing club") {
		t.Fatalf("pending: %+v", p)
	}
	if rs, _ := h.Mail.Rules(ctx, h.User.ID); len(rs) != 0 {
		t.Fatalf("a rule kept before the yes: %+v", rs)
	}
	h.Rig.LLM.Enqueue(say("Done."))
	h.Decide(p[0].ID, true)
	rs, err := h.Mail.Rules(ctx, h.User.ID)
	if err != nil || len(rs) != 1 || !rs[0].Understood.Archive || !rs[0].Enabled {
		t.Fatalf("rules after the yes: %+v, %v", rs, err)
	}
	if a := lastAction(t, h, p[0].ID); a.Status != store.ActionDone || !strings.Contains(a.Result, "Rule added") {
		t.Errorf("action %s: %q", a.Status, a.Result)
	}

	h.Rig.LLM.Enqueue(reply(call("c2", "mail_add_rule", map[string]any{"text": "make me a sandwich"})))
	p = toolstest.Pending(h.Turn("", "rule: make me a sandwich"))
	if len(p) != 1 || !strings.Contains(p[0].Summary, "couldn't understand") {
		t.Fatalf("an unreadable rule's card: %+v", p)
	}
	h.Rig.LLM.Enqueue(say("Sorry."))
	h.Decide(p[0].ID, true)
	if rs, _ := h.Mail.Rules(ctx, h.User.ID); len(rs) != 1 {
		t.Fatalf("an unreadable rule was kept: %+v", rs)
	}
}
