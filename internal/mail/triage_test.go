package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
)

// The triage fixtures: Theodore's world. Tuesday 8 December 2026, Berlin.
var (
	berlin, _ = time.LoadLocation("Europe/Berlin")
	tue       = time.Date(2026, 12, 8, 9, 30, 0, 0, berlin)

	theo      = mail.Address{Name: "Theodore Twombly", Email: "theo@example.com"}
	theoWork  = mail.Address{Name: "Theodore", Email: "theodore@letters.example"}
	catherine = mail.Person{Name: "Catherine", Relation: "sister", Emails: []string{"cath@family.example"}, Closeness: 0.9}
	landlord  = mail.Person{Name: "Mr Brown", Relation: "landlord", Emails: []string{"brown@lettings.example"}, Closeness: 0.2}
	paul      = mail.Person{Name: "Paul", Relation: "", Emails: []string{"paul@letters.example"}, Closeness: 0.5}
)

func knowledge() *mail.Known {
	sent := []mail.Message{
		{ID: "s1", From: theo, To: []mail.Address{{Email: "Amy@Example.org"}}, ThreadID: "t-amy", Date: tue.AddDate(0, 0, -3)},
		{ID: "s2", From: theo, To: []mail.Address{{Email: "support@venue.example"}}, ThreadID: "t-venue", Date: tue.AddDate(0, 0, -2)},
	}
	return mail.NewKnowledge([]string{theo.Email, theoWork.Email}, []mail.Person{catherine, landlord, paul}, sent)
}

func from(email, name string) mail.Address { return mail.Address{Name: name, Email: email} }

func TestTriageRules(t *testing.T) {
	k := knowledge()
	cases := []struct {
		name         string
		m            mail.Message
		now          time.Time // zero: an hour after tue
		cat          mail.Category
		minImp       float64
		maxImp       float64
		reason       []string // substrings the reason must hold
		notReason    []string
		summaryStart string
	}{
		{name: "sister asks about sunday",
			m: mail.Message{From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: "lunch",
				Text: "Hi Theo,\n\nAre you coming for lunch on Sunday? Mum wants to know.\n\nCat", Date: tue},
			cat: mail.NeedsReply, minImp: 0.8, maxImp: 1,
			reason: []string{"from your sister", "asks about lunch", "mentions Sunday"}, summaryStart: "Are you coming for lunch on Sunday?"},
		{name: "mailing list is a newsletter even from a person",
			m: mail.Message{From: from("jo@climb.example", "Jo"), To: []mail.Address{{Email: "members@climb.example"}}, Subject: "December meet",
				ListID: `"Climbing club" <members.climb.example>`, Text: "The December meet is at the bouldering hall.", Date: tue},
			cat: mail.Newsletter, maxImp: 0.2, reason: []string{"mailing list Climbing club"}},
		{name: "precedence bulk is a newsletter",
			m:   mail.Message{From: from("news@shop.example", "Shop"), To: []mail.Address{theo}, Subject: "Winter sale", Precedence: "bulk", Text: "Everything must go.", Date: tue},
			cat: mail.Newsletter, maxImp: 0.2, reason: []string{"sent in bulk"}},
		{name: "unsubscribe link alone is a newsletter",
			m: mail.Message{From: from("hello@substack.example", "Weekly Letters"), To: []mail.Address{theo}, Subject: "Issue 42",
				ListUnsubscribe: "<https://substack.example/u/1>", Text: "This week: handwriting.", Date: tue},
			cat: mail.Newsletter, reason: []string{"unsubscribe link"}},
		{name: "order confirmation from a shop is a receipt",
			m: mail.Message{From: from("orders@bookshop.example", "Bookshop"), To: []mail.Address{theo}, Subject: "Your order #4411 has shipped",
				Text: "Thanks for your order. Total: €23.90", Date: tue},
			cat: mail.Receipt, maxImp: 0.3, reason: []string{"receipt"}},
		{name: "receipt words from a person are not a receipt",
			m: mail.Message{From: from("paul@letters.example", "Paul"), To: []mail.Address{theoWork}, Subject: "the invoice for Chris",
				Text: "Could you check the invoice before I send it?", Date: tue},
			cat: mail.NeedsReply, reason: []string{"from Paul"}},
		{name: "github notifications with a List-Id are notifications",
			m: mail.Message{From: from("notifications@github.com", "Ana"), To: []mail.Address{theo}, Subject: "[os1] Fix sync (#12)",
				ListID: "os1ai/os1 <os1.os1ai.github.com>", ListUnsubscribe: "<mailto:unsub@github.com>", Text: "@theo can you review this?", Date: tue},
			cat: mail.Notification, maxImp: 0.3, reason: []string{"automatic notification"}},
		{name: "no-reply sender without a list is a notification",
			m:   mail.Message{From: from("no-reply@bank.example", "Bank"), To: []mail.Address{theo}, Subject: "New sign-in", Text: "A new device signed in to your account.", Date: tue},
			cat: mail.Notification},
		{name: "failed DMARC and a phishing line is spam",
			m: mail.Message{From: from("security@paypa1.example", "PayPal"), To: []mail.Address{theo}, Subject: "Action required",
				AuthResults: "mx.example; spf=pass; dkim=none; dmarc=fail header.from=paypa1.example", Text: "Please verify your account within 24 hours.", Date: tue},
			cat: mail.Spam, maxImp: 0, reason: []string{"DMARC", `"verify your account"`}},
		{name: "failed SPF alone is not spam",
			m: mail.Message{From: from("amy@example.org", "Amy"), To: []mail.Address{theo}, Subject: "photos",
				AuthResults: "mx.example; spf=softfail", Text: "Here are the photos from the weekend.", Date: tue},
			cat: mail.FYI, reason: []string{"someone you have written to"}},
		{name: "a known person's mail is never spam on one signal",
			m: mail.Message{From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: "bitcoin lol",
				AuthResults: "dmarc=fail", Text: "Dad bought bitcoin. Call him.", Date: tue},
			cat: mail.FYI, minImp: 0.6, reason: []string{"from your sister"}},
		{name: "own sent question waits",
			m: mail.Message{From: theo, To: []mail.Address{{Email: "brown@lettings.example"}}, Subject: "deposit",
				Text: "Hello Mr Brown,\nWhen can you return the deposit?\nTheo", Date: tue},
			cat: mail.Waiting, reason: []string{"waiting for an answer"}},
		{name: "own sent statement is fyi",
			m:   mail.Message{From: theoWork, To: []mail.Address{{Email: "paul@letters.example"}}, Subject: "done", Text: "The letters are done.", Date: tue},
			cat: mail.FYI},
		{name: "stranger's direct question is fyi, said so",
			m: mail.Message{From: from("recruiter@corp.example", "Dana"), To: []mail.Address{theo}, Subject: "opportunity",
				Text: "Would you be open to a quick call?", Date: tue},
			cat: mail.FYI, maxImp: 0.5, reason: []string{"a sender you don't know"}},
		{name: "stranger in a thread Theo answered needs a reply",
			m: mail.Message{From: from("events@venue.example", "Venue"), To: []mail.Address{theo}, Subject: "Re: booking", ThreadID: "t-venue",
				Text: "Can you confirm the number of guests by Friday?\n\nOn Mon, Dec 7, 2026 Theo wrote:\n> Is the hall free?", Date: tue},
			cat: mail.NeedsReply, minImp: 0.7, reason: []string{"you replied in this thread", "deadline Friday"}},
		{name: "deadline tomorrow weighs more",
			m: mail.Message{From: from("paul@letters.example", "Paul"), To: []mail.Address{theoWork}, Subject: "draft",
				Text: "Please send the draft by tomorrow.", Date: tue},
			cat: mail.NeedsReply, minImp: 0.9, reason: []string{"deadline Wednesday"}},
		{name: "a passed deadline is said so and not boosted",
			m: mail.Message{From: from("paul@letters.example", "Paul"), To: []mail.Address{theoWork}, Subject: "draft",
				Text: "Please send the draft by tomorrow.", Date: tue},
			now: tue.AddDate(0, 0, 5), cat: mail.NeedsReply, maxImp: 0.85, reason: []string{"the deadline Wednesday has passed"}},
		{name: "only in Cc from a stranger ranks lower",
			m: mail.Message{From: from("x@corp.example", "X"), To: []mail.Address{{Email: "team@corp.example"}}, Cc: []mail.Address{theo},
				Subject: "notes", Text: "Notes from the meeting are attached.", Date: tue},
			cat: mail.FYI, maxImp: 0.2, reason: []string{"only in Cc"}},
		{name: "a question in quoted text is not a question",
			m: mail.Message{From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: "Re: lunch",
				Text: "Great, see you then.\n\n> Are you coming on Sunday?", Date: tue},
			cat: mail.FYI, reason: []string{"from your sister"}, notReason: []string{"asks"}},
		{name: "flagged adds weight",
			m: mail.Message{From: from("x@corp.example", "X"), To: []mail.Address{theo}, Subject: "contract",
				Text: "The signed contract is attached.", Flags: []string{`\Flagged`}, Date: tue},
			cat: mail.FYI, minImp: 0.5, reason: []string{"you flagged it"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = tue.Add(time.Hour)
			}
			tr := mail.Triager{Clock: clock.NewFake(now)}
			got := tr.Triage(context.Background(), c.m, k)
			if got.Category != c.cat {
				t.Errorf("category %s, want %s (reason %q)", got.Category, c.cat, got.Reason)
			}
			if got.Importance < c.minImp || (c.maxImp > 0 || c.cat == mail.Spam) && got.Importance > c.maxImp {
				t.Errorf("importance %.2f, want in [%.2f, %.2f] (reason %q)", got.Importance, c.minImp, c.maxImp, got.Reason)
			}
			for _, w := range c.reason {
				if !strings.Contains(got.Reason, w) {
					t.Errorf("reason %q lacks %q", got.Reason, w)
				}
			}
			for _, w := range c.notReason {
				if strings.Contains(got.Reason, w) {
					t.Errorf("reason %q has %q", got.Reason, w)
				}
			}
			if got.By != "rules" || !got.At.Equal(now) {
				t.Errorf("by %q at %v, want rules at the clock's %v", got.By, got.At, now)
			}
			if c.summaryStart != "" && !strings.HasPrefix(got.Summary, c.summaryStart) {
				t.Errorf("summary %q, want it to start %q", got.Summary, c.summaryStart)
			}
		})
	}
}

func TestKnowledge(t *testing.T) {
	k := knowledge()
	for addr, own := range map[string]bool{"theo@example.com": true, " Theo@Example.COM ": true, "theo+news@example.com": true,
		"theo@example.com.evil": false, "theodore@example.com": false, "+@example.com": false} {
		if k.Own(addr) != own {
			t.Errorf("Own(%q) = %v", addr, !own)
		}
	}
	if !k.WroteTo("amy@example.org") || k.WroteTo("cath@family.example") {
		t.Error("WroteTo should follow the Sent messages' recipients, case-folded")
	}
	if !k.RepliedIn("t-amy") || k.RepliedIn("") || k.RepliedIn("t-other") {
		t.Error("RepliedIn should follow the Sent messages' threads")
	}
}

func TestTriageOrdersTheInbox(t *testing.T) {
	// The ranker alone must put a sister's question above a colleague's
	// FYI, above a newsletter, above spam.
	k := knowledge()
	tr := mail.Triager{Clock: clock.NewFake(tue.Add(time.Hour))}
	msgs := []mail.Message{
		{From: from("news@shop.example", ""), To: []mail.Address{theo}, Precedence: "bulk", Subject: "sale", Text: "Sale", Date: tue},
		{From: from("paul@letters.example", "Paul"), To: []mail.Address{theoWork}, Subject: "fyi", Text: "The printer is fixed.", Date: tue},
		{From: from("cath@family.example", ""), To: []mail.Address{theo}, Subject: "call", Text: "Can you call Mum tonight?", Date: tue},
		{From: from("win@lotto.example", ""), To: []mail.Address{theo}, AuthResults: "spf=fail", Subject: "You have won", Text: "Claim your prize now", Date: tue},
	}
	var imp []float64
	for _, m := range msgs {
		imp = append(imp, tr.Triage(context.Background(), m, k).Importance)
	}
	if !(imp[2] > imp[1] && imp[1] > imp[0] && imp[0] > imp[3]) {
		t.Errorf("importances sister %.2f, colleague %.2f, newsletter %.2f, spam %.2f: want that order", imp[2], imp[1], imp[0], imp[3])
	}
}

func TestSummarize(t *testing.T) {
	long := strings.Repeat("word ", 60)
	cases := []struct {
		name, subject, text, want string
	}{
		{"greeting skipped", "s", "Hi Theo,\n\nThe deposit is on its way. Regards", "The deposit is on its way."},
		{"quoted and signature cut", "s", "> old question?\nSounds good to me.\n-- \nPaul\nLetters Inc.", "Sounds good to me."},
		{"link dropped", "s", "Read it here: https://example.com/a?b=c\nThanks", "Read it here:"},
		{"greeting that opens the line is dropped", "s", "Hello Mr Brown, when can you return the deposit?", "When can you return the deposit?"},
		{"newsletter frame skipped", "s", "View this email in your browser\nHaving trouble viewing? Click here\nFive stories about handwriting this week.", "Five stories about handwriting this week."},
		{"empty text uses subject", "Your parcel is on its way", "", "Your parcel is on its way"},
		{"only greeting uses subject", "Dinner", "Hello!\n", "Dinner"},
		{"abbreviation does not end the sentence", "s", "Dr. Lee moved the appointment to 4 pm. Please confirm.", "Dr. Lee moved the appointment to 4 pm."},
		{"control and format characters removed", "s", "Pay\u200b now\u202e please.", "Pay now please."},
		{"long is cut at 140 with an ellipsis", "s", long, strings.TrimSpace(strings.Repeat("word ", 27)) + "…"},
	}
	for _, c := range cases {
		got := mail.Summarize(mail.Message{Subject: c.subject, Text: c.text})
		if got != c.want {
			t.Errorf("%s: summary %q, want %q", c.name, got, c.want)
		}
		if n := len([]rune(got)); n > 140 {
			t.Errorf("%s: summary has %d characters", c.name, n)
		}
	}
}

func TestFindDates(t *testing.T) {
	day := func(m time.Month, d int) string {
		return time.Date(2026, m, d, 0, 0, 0, 0, berlin).Format("Mon 2006-01-02")
	}
	cases := []struct {
		text string
		want []string // "Mon 2006-01-02" and "!" when a deadline
	}{
		{"Please send it by Friday.", []string{day(12, 11) + "!"}},
		{"See you tomorrow", []string{day(12, 9)}},
		{"shall we meet next Friday?", []string{day(12, 18)}},
		{"next Monday works", []string{day(12, 14)}},
		{"Tuesday again?", []string{day(12, 15)}},
		{"due 3 January", []string{"Sun 2027-01-03!"}},
		{"no later than Dec 20th, 2026", []string{day(12, 20) + "!"}},
		{"the party is on 2026-12-24", []string{day(12, 24)}},
		{"deadline: end of the week", []string{day(12, 11) + "!"}},
		{"in 3 days", []string{day(12, 11)}},
		{"31 February is not a day", nil},
		{"Friday works, as long as it's done by Friday", []string{day(12, 11) + "!"}},
		{"the report before 1 December", []string{day(12, 1) + "!"}},
		{"nothing here, may I ask", nil},
	}
	for _, c := range cases {
		var got []string
		for _, d := range mail.FindDates(c.text, tue) {
			s := d.When.Format("Mon 2006-01-02")
			if d.Deadline {
				s += "!"
			}
			got = append(got, s)
			if d.When.Hour() != 23 || d.When.Location() != berlin {
				t.Errorf("%q: %v is not the end of a Berlin day", c.text, d.When)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%q: dates %v, want %v", c.text, got, c.want)
		}
	}
	if d := mail.FindDates("by Friday", time.Time{}); d != nil {
		t.Errorf("no reference date gave %v", d)
	}
}
