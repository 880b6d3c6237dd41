package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
)

// FuzzTriage: any subject and text give a known category, an importance in
// 0..1, a reason, and a one-line summary of at most 140 characters.
func FuzzTriage(f *testing.F) {
	f.Add("lunch", "Hi Theo,\nAre you coming on Sunday? Let me know by Friday.", "")
	f.Add("Your order #1", "Total: €9 https://x.example", "dmarc=fail")
	f.Add("", "> quoted?\n-- \nsig", "spf=softfail")
	f.Add("due 31 February", "by next friday, in 999999999999 days, 2026-13-45, tomorrow\u202e", "")
	k := knowledge()
	tr := mail.Triager{Clock: clock.NewFake(tue)}
	f.Fuzz(func(t *testing.T, subject, text, auth string) {
		m := mail.Message{From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: subject, Text: text, AuthResults: auth, Date: tue}
		got := tr.Triage(context.Background(), m, k)
		if !strings.Contains(" needs_reply waiting fyi newsletter receipt notification spam ", " "+string(got.Category)+" ") {
			t.Fatalf("category %q", got.Category)
		}
		if got.Importance < 0 || got.Importance > 1 || got.Reason == "" {
			t.Fatalf("importance %v reason %q", got.Importance, got.Reason)
		}
		if utf8.RuneCountInString(got.Summary) > 140 || strings.ContainsAny(got.Summary, "\n\r") {
			t.Fatalf("summary %q", got.Summary)
		}
		for _, d := range mail.FindDates(text, tue) {
			if d.When.Before(tue.AddDate(-1, 0, 0)) || d.When.After(tue.AddDate(2, 0, 0)) {
				t.Fatalf("%q resolved to %v", d.Phrase, d.When)
			}
		}
		_ = mail.Digest([]mail.Message{{From: m.From, Subject: subject, Text: text, Triage: got, Date: tue.Add(-time.Hour)}}, 3)
	})
}

// FuzzParseRule: a rule is understood with a summary, or refused with
// ErrRule; never a panic, never an action without a condition.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"archive newsletters unless they're from the climbing club", "anything from my landlord is important",
		"emails from @github.com are notifications", "mark receipts as not important", "mark  as ", "unless from", "archive from , or"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		spec, err := mail.ParseRule(text)
		if err != nil {
			if !errors.Is(err, mail.ErrRule) {
				t.Fatalf("%q: %v is not an ErrRule", text, err)
			}
			return
		}
		if spec.Summary == "" || len(spec.From)+len(spec.Subject)+len(spec.Words)+len(spec.Categories) == 0 {
			t.Fatalf("%q: %+v", text, spec)
		}
		if spec.Category == "" && spec.Important == nil && !spec.Archive {
			t.Fatalf("%q: no action: %+v", text, spec)
		}
	})
}
