package mailtools_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailtools"
	"github.com/os1ai/os1/internal/mail/mailtools/toolstest"
	"github.com/os1ai/os1/internal/testrig"
)

func triage(t *testing.T, h *toolstest.Harness, m mail.Message, tr mail.Triage) mail.Message {
	t.Helper()
	tr.At, tr.By = testrig.Start, "rules"
	ctx := context.Background()
	if err := h.Mail.SetTriage(ctx, h.User.ID, m.ID, tr); err != nil {
		t.Fatal(err)
	}
	got, err := h.Mail.Message(ctx, h.User.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestSummarizeInbox: the digest of the triaged inbox (mail.Digest's own
// words, most important first), the emails it names with their ids, and
// the replies owed, all inside one fenced block of untrusted data; an
// action proposed after it warns that the turn read those emails.
func TestSummarizeInbox(t *testing.T) {
	h := toolstest.New(t)
	amy := triage(t, h, amyMessage(h), mail.Triage{Category: mail.NeedsReply, Importance: 0.9, Reason: "you write to them",
		Summary: "Friday works. Shall I book the usual place?"})
	old := triage(t, h, h.Put("INBOX", mail.Message{From: mail.Address{Name: "Paul", Email: "paul@example.net"}, To: []mail.Address{{Email: toolstest.UserAddr}},
		Subject: "Keys", Text: "Can you leave the keys?", Date: testrig.Start.Add(-96 * time.Hour)}),
		mail.Triage{Category: mail.NeedsReply, Importance: 0.6, Reason: "asks you", Summary: "Can you leave the keys?"})
	news := triage(t, h, h.Put("INBOX", mail.Message{From: mail.Address{Email: "news@club.test"}, Subject: "Club news", Text: "Meeting Tuesday."}),
		mail.Triage{Category: mail.Newsletter, Importance: 0.2, Reason: "a newsletter", Summary: "Meeting Tuesday."})
	spam := triage(t, h, h.Put("INBOX", mail.Message{From: mail.Address{Email: "win@spam.test"}, Subject: "You won", Text: "Click."}),
		mail.Triage{Category: mail.Spam, Importance: 0, Reason: "spam"})
	h.Put("INBOX", mail.Message{From: mail.Address{Email: "new@example.net"}, Subject: "Just in", Text: "Not triaged yet."})

	h.Rig.LLM.Enqueue(reply(call("c1", "mail_summarize_inbox", map[string]any{})),
		reply(call("c2", "mail_archive", map[string]any{"ids": []string{news.ID}})))
	evs := h.Turn("", "what's in my mail?")
	out := h.ToolResults(toolstest.ConversationOf(evs))["c1"]

	if !strings.HasPrefix(out, "[untrusted mail: "+amy.ID+" "+old.ID+" "+news.ID+"]\n") {
		t.Errorf("untrusted line: %q", strings.SplitN(out, "\n", 2)[0])
	}
	digest := mail.Digest([]mail.Message{amy, old, news, spam}, 5)
	if !strings.Contains(out, "\n"+digest+"\n") || !strings.Contains(digest, "Friday works") {
		t.Errorf("result lacks the digest %q:\n%s", digest, out)
	}
	fence := regexp.MustCompile(`\n<<<INBOX ([0-9a-f]{12})\n`).FindStringSubmatch(out)
	if fence == nil || !strings.Contains(out, "\nINBOX "+fence[1]+">>>\n") {
		t.Fatalf("no fenced block:\n%s", out)
	}
	inside := out[strings.Index(out, fence[0]):strings.LastIndex(out, "INBOX "+fence[1]+">>>")]
	for _, want := range []string{
		"- id " + amy.ID + ": \"Amy\" <amy@example.org> “Re: Dinner?” (needs_reply; you write to them)",
		"The user owes a reply to 2 emails, oldest first:\n- id " + old.ID + ": \"Paul\" <paul@example.net> “Keys”, 21 Nov 2026 — You haven't answered",
		"\n- id " + amy.ID + ": \"Amy\" <amy@example.org> “Re: Dinner?”, 25 Nov 2026\n",
	} {
		if !strings.Contains(inside, want) {
			t.Errorf("block lacks %q:\n%s", want, inside)
		}
	}
	if strings.Contains(out, spam.ID) || strings.Contains(out, "You won") {
		t.Error("spam is named")
	}
	if !strings.HasSuffix(out, "1 email in the inbox is not triaged yet and left out.\n") {
		t.Errorf("untriaged not counted:\n%s", out)
	}
	p := toolstest.Pending(evs)
	if len(p) != 1 || !strings.HasPrefix(p[0].Summary, mailtools.WarningPrefix+"Before proposing this, os1 read 3 email(s) in this turn") {
		t.Fatalf("the archive after the summary: %+v", p)
	}
}

// TestDraftReplyInTheUsersVoice: the draft shows up to three excerpts of
// what the user wrote to that person, their own words without quotes,
// fenced as their writing; mail to others is not shown.
func TestDraftReplyInTheUsersVoice(t *testing.T) {
	h := toolstest.New(t)
	h.Put("Sent", mail.Message{From: mail.Address{Email: toolstest.UserAddr}, To: []mail.Address{{Email: toolstest.FriendAddr}},
		Subject: "Re: Film", Text: "Ha, yes! Count me in x\nT\n\nOn Mon, 23 Nov 2026, Amy wrote:\n> the quoted secret\n"})
	h.Put("Sent", mail.Message{From: mail.Address{Email: toolstest.UserAddr}, To: []mail.Address{{Email: "boss@work.test"}},
		Subject: "Report", Text: "Dear Ms Smith, please find the report attached."})
	m := amyMessage(h)
	h.Rig.LLM.Enqueue(reply(call("c1", "mail_draft_reply", map[string]any{"id": m.ID, "instructions": "say yes"})), say("Here it is."))
	evs := h.Turn("", "draft a yes to Amy")
	out := h.ToolResults(toolstest.ConversationOf(evs))["c1"]
	fence := regexp.MustCompile(`\n<<<USER'S OWN ([0-9a-f]{12})\n`).FindStringSubmatch(out)
	if fence == nil {
		t.Fatalf("no block of the user's writing:\n%s", out)
	}
	block := out[strings.Index(out, fence[0]):strings.LastIndex(out, "USER'S OWN "+fence[1]+">>>")]
	if !strings.Contains(block, "“Re: Film”:\nHa, yes! Count me in x\nT\n") || !strings.Contains(block, "Are you free Friday?") {
		t.Errorf("excerpts:\n%s", block)
	}
	if strings.Contains(out, "the quoted secret") || strings.Contains(out, "Dear Ms Smith") {
		t.Errorf("quoted text or mail to someone else shown:\n%s", out)
	}
	if !strings.Contains(out, "How the user writes to amy@example.org") || strings.Index(out, "\n{") > strings.Index(out, "USER'S OWN") {
		t.Errorf("the fields should come first, then the voice:\n%s", out)
	}
	if len(h.Server("Drafts")) != 0 || len(toolstest.Pending(evs)) != 0 {
		t.Error("a draft without a body was saved or proposed")
	}
}

// TestDraftReplySavesToDrafts: with a body the reply is appended to the
// account's Drafts on the server, threaded and marked \Draft; nothing is
// sent and nothing waits for approval.
func TestDraftReplySavesToDrafts(t *testing.T) {
	h := toolstest.New(t)
	m := amyMessage(h)
	h.Rig.LLM.Enqueue(reply(call("c1", "mail_draft_reply", map[string]any{"id": m.ID, "body": "Yes please, book it.\nTheo"})), say("Saved."))
	evs := h.Turn("", "draft a yes to Amy and keep it in drafts")
	out := h.ToolResults(toolstest.ConversationOf(evs))["c1"]
	if !strings.Contains(out, "Saved the reply to the folder “Drafts” of theo@example.com; nothing was sent.") {
		t.Errorf("result:\n%s", out)
	}
	drafts := h.Server("Drafts")
	if len(drafts) != 1 {
		t.Fatalf("%d drafts on the server", len(drafts))
	}
	d := drafts[0]
	raw := strings.ReplaceAll(d.Raw, "\r\n", "\n")
	for _, want := range []string{"To: \"Amy\" <amy@example.org>", "Subject: Re: Dinner?", "In-Reply-To: <amy-1@example.org>",
		"References: <sent1@example.com> <amy-1@example.org>", "Yes please, book it.\nTheo"} {
		if !strings.Contains(raw, want) {
			t.Errorf("draft lacks %q:\n%s", want, raw)
		}
	}
	if !strings.Contains(strings.Join(d.Flags, " "), `\Draft`) {
		t.Errorf("flags %v", d.Flags)
	}
	if len(h.Sink.Deliveries()) != 0 || len(toolstest.Pending(evs)) != 0 {
		t.Error("saving a draft sent or proposed something")
	}
}
