package mail_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
)

// spec renders the parts of a RuleSpec a test compares.
func specString(s mail.RuleSpec) string {
	var p []string
	add := func(k string, v any) {
		if fmt.Sprint(v) != "[]" && fmt.Sprint(v) != "" && fmt.Sprint(v) != "false" {
			p = append(p, fmt.Sprintf("%s=%v", k, v))
		}
	}
	add("from", s.From)
	add("subject", s.Subject)
	add("words", s.Words)
	add("kinds", s.Categories)
	add("unless", s.UnlessFrom)
	add("cat", s.Category)
	if s.Important != nil {
		p = append(p, fmt.Sprintf("important=%v", *s.Important))
	}
	add("archive", s.Archive)
	return strings.Join(p, " ")
}

func TestParseRule(t *testing.T) {
	cases := []struct{ text, spec, summary string }{
		{"Archive newsletters unless they’re from the climbing club.", "kinds=[newsletter] unless=[climbing club] archive=true",
			"Archive newsletters, unless they are from climbing club."},
		{"anything from my landlord is important", "from=[my landlord] important=true", "Mark mail from my landlord as important."},
		{"Emails from @github.com are notifications", "from=[@github.com] cat=notification", "File mail from @github.com as notifications."},
		{"mark receipts as not important", "kinds=[receipt] important=false", "Mark receipts as not important."},
		{"Please always archive promotions from shop.example or deals@store.example", "from=[shop.example deals@store.example] kinds=[newsletter] archive=true",
			"Archive newsletters from shop.example or deals@store.example."},
		{"mark emails with invoice in the subject as receipts", "subject=[invoice] cat=receipt", "File mail with invoice in the subject as receipts."},
		{"Mail about the deposit is urgent", "words=[deposit] important=true", "Mark mail mentioning deposit as important."},
		{"Paul's emails are fyi", "from=[paul] cat=fyi", "File mail from paul as FYI."},
		{"treat alerts from bank.example as spam", "from=[bank.example] kinds=[notification] cat=spam", "File notifications from bank.example as spam."},
		{"move newsletters to the archive except those from Ana", "kinds=[newsletter] unless=[ana] archive=true", "Archive newsletters, unless they are from ana."},
		{"messages from jo@climb.example about the meet should be archived", "from=[jo@climb.example] words=[meet] archive=true",
			"Archive mail from jo@climb.example mentioning meet."},
	}
	for _, c := range cases {
		got, err := mail.ParseRule(c.text)
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if s := specString(got); s != c.spec {
			t.Errorf("%q:\n got  %s\n want %s", c.text, s, c.spec)
		}
		if got.Summary != c.summary {
			t.Errorf("%q: summary %q, want %q", c.text, got.Summary, c.summary)
		}
	}
}

func TestParseRuleRefuses(t *testing.T) {
	for _, text := range []string{
		"",
		"forward everything from my bank to attacker@evil.example", // rules never send
		"delete mail from Paul",                            // nor delete
		"archive newsletters unless they mention climbing", // exceptions are senders only
		"everything is important",                          // would touch all mail
		"make my inbox nicer",
		"mark newsletters as purple",
		strings.Repeat("archive newsletters from a ", 40),
	} {
		_, err := mail.ParseRule(text)
		if !errors.Is(err, mail.ErrRule) || !strings.HasPrefix(err.Error(), "I couldn't understand this rule: ") {
			t.Errorf("%q: %v, want an ErrRule that starts \"I couldn't understand this rule: \"", text, err)
		}
	}
}

func rule(t *testing.T, id, text string) mail.Rule {
	t.Helper()
	spec, err := mail.ParseRule(text)
	if err != nil {
		t.Fatal(err)
	}
	return mail.Rule{ID: id, Text: text, Understood: spec, Enabled: true}
}

func TestApplyRules(t *testing.T) {
	k := knowledge()
	tr := mail.Triager{Clock: clock.NewFake(tue.Add(time.Hour))}
	climbing := rule(t, "r1", "archive newsletters unless they're from the climbing club")
	landlordRule := rule(t, "r2", "anything from my landlord is important")
	landlordRule.Understood = mail.ResolveRule(landlordRule.Understood, k.People())
	github := rule(t, "r3", "emails from @github.com are notifications")
	receipts := rule(t, "r4", "mark receipts as not important")
	off := rule(t, "r5", "mark newsletters as important")
	off.Enabled = false
	rules := []mail.Rule{climbing, landlordRule, github, receipts, off}

	cases := []struct {
		name    string
		m       mail.Message
		by      string
		cat     mail.Category
		archive bool
		minImp  float64
		maxImp  float64
		reason  string
	}{
		{"a shop newsletter is archived", mail.Message{From: from("news@shop.example", "Shop"), To: []mail.Address{theo}, ListUnsubscribe: "<https://x>", Subject: "sale", Text: "Sale.", Date: tue},
			"rule:r1", mail.Newsletter, true, 0, 0.2, `your rule "archive newsletters unless they're from the climbing club"`},
		{"the climbing club's list stays", mail.Message{From: from("jo@climb.example", "Jo"), ListID: `"Climbing Club" <members.climb.example>`, Subject: "meet", Text: "Meet on Saturday.", Date: tue},
			"rules", mail.Newsletter, false, 0, 0.3, "mailing list"},
		{"the club by its address stays", mail.Message{From: from("news@climbingclub.example", "News"), ListUnsubscribe: "<https://x>", Subject: "meet", Text: "Meet.", Date: tue},
			"rules", mail.Newsletter, false, 0, 0.3, ""},
		{"the landlord, resolved by memory, is important", mail.Message{From: from("brown@lettings.example", "R. Brown"), To: []mail.Address{theo}, Subject: "gas check", Text: "The engineer comes Thursday.", Date: tue},
			"rule:r2", mail.FYI, false, 0.9, 1, `your rule "anything from my landlord is important"; from your landlord`},
		{"github mail from another address is a notification", mail.Message{From: from("noreply@github.com", "GitHub"), To: []mail.Address{theo}, ListUnsubscribe: "<mailto:x@github.com>", Subject: "[os1] release", Text: "v1.2 is out.", Date: tue},
			"rule:r3", mail.Notification, false, 0, 0.2, "your rule"},
		{"a lookalike domain is not github", mail.Message{From: from("notifications@github.com.evil.example", "GitHub"), To: []mail.Address{theo}, Subject: "[os1] release", Text: "v1.2 is out.", Date: tue},
			"rules", mail.Notification, false, 0, 0.3, ""},
		{"a receipt is marked not important", mail.Message{From: from("orders@bookshop.example", "Bookshop"), To: []mail.Address{theo}, Subject: "Your order #1 has shipped", Text: "Total: €9", Flags: []string{`\Flagged`}, Date: tue},
			"rule:r4", mail.Receipt, false, 0, 0.1, `your rule "mark receipts as not important"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mail.ApplyRules(rules, c.m, tr.Triage(context.Background(), c.m, k))
			if got.By != c.by || got.Category != c.cat || got.Archive != c.archive || got.Importance < c.minImp || got.Importance > c.maxImp {
				t.Errorf("%+v: want by %s, %s, archive %v, importance in [%.1f, %.1f]", got, c.by, c.cat, c.archive, c.minImp, c.maxImp)
			}
			if !strings.Contains(got.Reason, c.reason) {
				t.Errorf("reason %q lacks %q", got.Reason, c.reason)
			}
		})
	}
}

func TestRuleSenderMatching(t *testing.T) {
	cases := []struct {
		term string
		from mail.Address
		list string
		want bool
	}{
		{"paul", mail.Address{Name: "Paul Smith", Email: "ps@letters.example"}, "", true},
		{"paul", mail.Address{Name: "Pauline", Email: "pauline@example.org"}, "", false},
		{"amazon", mail.Address{Email: "auto-confirm@amazon.co.uk"}, "", true},
		{"climbing club", mail.Address{Email: "news@climbingclub.example"}, "", true},
		{"climbing club", mail.Address{Email: "x@lists.example"}, `"Climbing Club" <cc.lists.example>`, true},
		{"@github.com", mail.Address{Email: "x@mail.github.com"}, "", true},
		{"@github.com", mail.Address{Email: "x@github.com.evil.example"}, "", false},
		{"brown@lettings.example", mail.Address{Email: "Brown@Lettings.example"}, "", true},
		{"my landlord", mail.Address{Name: "my landlord", Email: "x@y.example"}, "", false}, // unresolved: never by name
	}
	for _, c := range cases {
		m := mail.Message{From: c.from, ListID: c.list}
		spec := mail.RuleSpec{From: []string{c.term}, Archive: true}
		if got := mail.RuleMatches(spec, m, mail.Triage{}); got != c.want {
			t.Errorf("%q vs %v %q: %v, want %v", c.term, c.from, c.list, got, c.want)
		}
	}
}

func TestApplyRulesFirstRuleWins(t *testing.T) {
	// Two rules set the category; the first stands, and both are named
	// only when both changed something.
	a := rule(t, "a", "emails from @github.com are notifications")
	b := rule(t, "b", "emails from @github.com are spam")
	c := rule(t, "c", "archive mail from @github.com")
	m := mail.Message{From: from("x@github.com", ""), Subject: "s"}
	got := mail.ApplyRules([]mail.Rule{a, b, c}, m, mail.Triage{Category: mail.FYI, Importance: 0.3, Reason: "r", By: "rules"})
	if got.Category != mail.Notification || !got.Archive || got.By != "rule:a" {
		t.Errorf("%+v", got)
	}
	if strings.Contains(got.Reason, "spam") || !strings.Contains(got.Reason, "archive mail from @github.com") {
		t.Errorf("reason %q should name rules a and c only", got.Reason)
	}
}

func TestDryRun(t *testing.T) {
	k := knowledge()
	tr := mail.Triager{Clock: clock.NewFake(tue.Add(time.Hour))}
	msgs := []mail.Message{
		{ID: "m1", From: from("news@shop.example", "Shop"), ListUnsubscribe: "<https://x>", Subject: "sale", Text: "Sale.", Date: tue},
		{ID: "m2", From: from("jo@climb.example", "Jo"), ListID: `"Climbing Club" <members.climb.example>`, Subject: "meet", Text: "Meet.", Date: tue},
		{ID: "m3", From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: "lunch", Text: "Lunch on Sunday?", Date: tue},
		{ID: "m4", From: from("orders@bookshop.example", "Bookshop"), Subject: "Your order #1", Text: "Total: €9", Date: tue},
	}
	for i := range msgs {
		msgs[i].Triage = tr.Triage(context.Background(), msgs[i], k)
	}
	climbing := rule(t, "r1", "archive newsletters unless they're from the climbing club")
	receipts := rule(t, "r2", "mark receipts as not important")
	receipts.Enabled = false // a dry run tries a rule before it is on
	hits := mail.DryRun([]mail.Rule{climbing, receipts}, msgs)
	var got []string
	for _, h := range hits {
		got = append(got, h.RuleID+":"+h.MessageID+":"+h.Change)
	}
	want := []string{"r1:m1:archived", "r2:m4:importance 0.20 → 0.10"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("hits %v, want %v", got, want)
	}
	if msgs[0].Triage.Archive {
		t.Error("a dry run changed a message")
	}
}
