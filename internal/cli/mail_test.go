package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
)

func rawMail(from, to, subject, date, msgID, body string, extra ...string) []byte {
	h := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n", from, to, subject, date, msgID)
	for _, e := range extra {
		h += e + "\r\n"
	}
	return []byte(h + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

// TestMailJourney is a user's mail day on the command line, against
// Debian's dovecot and an SMTP submission sink: connect (a wrong password
// first), the first sync with its progress, the triaged inbox with reasons,
// search; then she drafts a reply in a chat, it waits for a yes, and only
// then reaches the sink, threaded, with a copy filed in Sent.
func TestMailJourney(t *testing.T) {
	dc := dovecottest.Start(t)
	dc.AddUser("theo", "imap-pass")
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"theo": "imap-pass"}})
	dc.DeliverTo("theo", "Sent", rawMail("Theo <theo@example.org>", "Paul Brown <paul@lettings.example>", "The deposit",
		"Mon, 23 Nov 2026 09:00:00 +0000", "t1@example.org", "Hi Paul, when will the deposit come back?"))
	dc.Deliver("theo", rawMail("Paul Brown <paul@lettings.example>", "theo@example.org", "Re: The deposit",
		"Wed, 25 Nov 2026 08:00:00 +0000", "p1@lettings.example", "Hi Theo, the deposit comes back on Friday. Can you confirm your bank details?",
		"In-Reply-To: <t1@example.org>", "References: <t1@example.org>"))
	dc.Deliver("theo", rawMail("Climbing Club <news@club.example>", "theo@example.org", "November newsletter",
		"Tue, 24 Nov 2026 07:00:00 +0000", "n1@club.example", "New routes on the north wall.",
		"List-Id: <news.club.example>", "List-Unsubscribe: <mailto:leave@club.example>"))

	r := startApp(t, "OS1_MAIL_SYNC_EVERY", "0s")
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	host, port, _ := strings.Cut(dc.Addr, ":")
	add := []string{"mail", "add", "--address", "theo@example.org", "--imap", host + ":" + port, "--imap-security", "none",
		"--smtp", sink.Host + ":" + strconv.Itoa(sink.Port), "--smtp-security", "none", "--username", "theo", "--password-stdin"}
	code, _, stderr := r.run("wrong\n", add...)
	if code == 0 || !strings.Contains(stderr, "theo@example.org") {
		t.Fatalf("a wrong password: %d %q", code, stderr)
	}
	code, out, stderr := r.run("imap-pass\n", add...)
	if code != 0 || !strings.Contains(out, "synced 3 messages") {
		t.Fatalf("mail add: %d %q %q", code, out, stderr)
	}
	if !strings.Contains(stderr, "fetching") && !strings.Contains(stderr, "triaging") && !strings.Contains(stderr, "done") {
		t.Errorf("no progress shown: %q", stderr)
	}

	code, out, _ = r.run("", "mail", "inbox")
	if code != 0 {
		t.Fatalf("inbox: %d %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "Re: The deposit") || !strings.Contains(lines[1], "needs_reply") ||
		!strings.Contains(lines[2], "newsletter") {
		t.Fatalf("inbox, most important first:\n%s", out)
	}
	code, out, _ = r.run("", "mail", "inbox", "--category", "newsletter")
	if code != 0 || strings.Contains(out, "deposit") || !strings.Contains(out, "November newsletter") {
		t.Fatalf("inbox --category newsletter:\n%s", out)
	}
	if code, out, _ = r.run("", "mail", "search", "bank", "details"); code != 0 || !strings.Contains(out, "Re: The deposit") {
		t.Fatalf("search:\n%s", out)
	}
	if code, out, _ = r.run("", "mail", "status"); code != 0 || !strings.Contains(out, "theo@example.org: synced") {
		t.Fatalf("status: %q", out)
	}
	// New mail is pushed (IMAP IDLE): no sync command, no waiting for the
	// periodic sync (off here).
	dc.Deliver("theo", rawMail("Ana <ana@example.net>", "theo@example.org", "Lunch tomorrow?",
		"Thu, 26 Nov 2026 08:00:00 +0000", "a1@example.net", "Are you free for lunch tomorrow?"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, out, _ = r.run("", "mail", "inbox"); strings.Contains(out, "Lunch tomorrow?") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pushed mail never showed:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// She looks the mail up, drafts a reply, and proposes it; nothing is
	// sent until Theo says yes.
	idRE := regexp.MustCompile(`\[untrusted mail: (\S+)`)
	var mailID string
	r.llm.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "mail_search", Arguments: json.RawMessage(`{"query":"deposit bank"}`)}}})
	r.llm.EnqueueFunc(func(req llmtest.Request) llmtest.Reply {
		last := req.Messages[len(req.Messages)-1].Content
		if m := idRE.FindStringSubmatch(last); m != nil {
			mailID = m[1]
		}
		args, _ := json.Marshal(map[string]any{"to": []string{"Paul Brown <paul@lettings.example>"}, "subject": "Re: The deposit",
			"body": "Hi Paul,\n\nThanks! My bank details are unchanged.\n\nTheo", "in_reply_to": mailID})
		return llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c2", Name: "mail_send", Arguments: args}}}
	})
	r.llm.Enqueue(llmtest.Reply{Chunks: []string{"Sent it."}})
	code, out, stderr = r.run("Reply to Paul that my bank details are unchanged\nn\n", "chat")
	if code != 0 || !strings.Contains(out+stderr, "paul@lettings.example") {
		t.Fatalf("chat: %d %q %q", code, out, stderr)
	}
	if n := len(sink.Deliveries()); n != 0 {
		t.Fatalf("%d messages sent without a yes", n)
	}

	r.llm.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "mail_search", Arguments: json.RawMessage(`{"query":"deposit bank"}`)}}})
	r.llm.EnqueueFunc(func(req llmtest.Request) llmtest.Reply {
		args, _ := json.Marshal(map[string]any{"to": []string{"Paul Brown <paul@lettings.example>"}, "subject": "Re: The deposit",
			"body": "Hi Paul,\n\nThanks! My bank details are unchanged.\n\nTheo", "in_reply_to": mailID})
		return llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c2", Name: "mail_send", Arguments: args}}}
	})
	r.llm.Enqueue(llmtest.Reply{Chunks: []string{"Sent it."}})
	code, out, stderr = r.run("Reply to Paul that my bank details are unchanged\ny\n", "chat")
	if code != 0 {
		t.Fatalf("chat: %d %q %q", code, out, stderr)
	}
	ds := sink.Deliveries()
	if len(ds) != 1 || len(ds[0].Rcpts) != 1 || ds[0].Rcpts[0] != "paul@lettings.example" || ds[0].From != "theo@example.org" {
		t.Fatalf("deliveries: %+v", ds)
	}
	data := string(ds[0].Data)
	for _, want := range []string{"In-Reply-To: <p1@lettings.example>", "References: <t1@example.org> <p1@lettings.example>", "My bank details are unchanged"} {
		if !strings.Contains(data, want) {
			t.Errorf("the sent message lacks %q:\n%s", want, data)
		}
	}
	// A copy is filed in Sent on the IMAP server.
	deadline = time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, d := range []string{"cur", "new"} {
			es, _ := os.ReadDir(filepath.Join(dc.Maildir("theo", "Sent"), d))
			n += len(es)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Sent holds %d messages, want the old one and the copy", n)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if code, out, _ = r.run("", "mail", "list"); code != 0 || !strings.Contains(out, "theo@example.org") {
		t.Fatalf("list: %q", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if code, out, _ = r.run("", "mail", "remove", id); code != 0 {
		t.Fatalf("remove: %q", out)
	}
	if code, out, _ = r.run("", "mail", "inbox"); code != 0 || !strings.Contains(out, "Nothing") {
		t.Fatalf("inbox after remove: %q", out)
	}
}
