package mailtest

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/mail"
)

func testSearch(t *testing.T, e env) {
	e.mustAccount(t, e.ana, "acc_a", "ana@example.com")
	e.mustAccount(t, e.bob, "acc_b", "bob@example.com")
	landlord := message("acc_a", "INBOX", 1, "About the flat")
	landlord.From = mail.Address{Name: "Karl Vermieter", Email: "karl@hausverwaltung.example"}
	landlord.Text = "The deposit will be returned on Friday."
	climbing := message("acc_a", "INBOX", 2, "Climbing club newsletter")
	climbing.Text = "Bouldering night on Tuesday."
	receipt := message("acc_a", "Archive", 3, "Your receipt")
	receipt.Text = "Thanks for your order of climbing shoes."
	ms := e.mustPut(t, e.ana, landlord, climbing, receipt)
	bobs := message("acc_b", "INBOX", 1, "Bob's deposit")
	bobs.From = mail.Address{Name: "Karl", Email: "karl@hausverwaltung.example"}
	e.mustPut(t, e.bob, bobs)

	for _, c := range []struct{ q, want string }{
		{"flat", "About the flat"},                                          // subject
		{"Vermieter", "About the flat"},                                     // sender's name
		{"karl@hausverwaltung.example", "About the flat"},                   // sender's address
		{"hausverwaltung", "About the flat"},                                // part of the address
		{"deposit", "About the flat"},                                       // text
		{"what did the landlord say about the DEPOSITS?", "About the flat"}, // stemmed, any case, stopwords
		{"bouldering", "Climbing club newsletter"},
		{"rücksendung receipt", "Your receipt"},
	} {
		hits, err := e.s.Search(e.ctx, e.ana, c.q, 0)
		if err != nil || len(hits) == 0 || hits[0].Subject != c.want {
			t.Errorf("Search %q = %v, %v; want %q first", c.q, subjects(hits), err, c.want)
		}
		for _, h := range hits {
			if h.UserID != e.ana {
				t.Errorf("Search %q found another user's message %s", c.q, h.ID)
			}
		}
	}
	// A word in the subject ranks above the same word in a body.
	hits, err := e.s.Search(e.ctx, e.ana, "climbing", 0)
	if got := strings.Join(subjects(hits), ","); err != nil || got != "Climbing club newsletter,Your receipt" {
		t.Errorf("Search climbing = %s, %v", got, err)
	}
	// Among equals, the newest first; limit applies.
	twins := []mail.Message{message("acc_a", "INBOX", 10, "twin okapi"), message("acc_a", "INBOX", 11, "twin okapi")}
	e.mustPut(t, e.ana, twins...)
	hits, err = e.s.Search(e.ctx, e.ana, "okapi", 0)
	if err != nil || len(hits) != 2 || hits[0].ID != twins[1].ID {
		t.Errorf("Search okapi = %v, %v; want the newer twin %s first", ids(hits), err, twins[1].ID)
	}
	if hits, _ := e.s.Search(e.ctx, e.ana, "okapi", 1); len(hits) != 1 {
		t.Errorf("Search limit 1: %d hits", len(hits))
	}
	// Hostile and empty queries are words or nothing, never errors.
	for _, q := range []string{`"`, `""`, `*`, `deposit*`, `NEAR(`, `NEAR(deposit flat, 1)`, `OR`, `AND`, `NOT`,
		`deposit OR`, `OR deposit`, `subject:flat`, `sender:karl`, `{subject sender}: flat`, `^flat`, `(`, `)`,
		`- deposit`, `+`, `'`, `\`, "\x00", ``, `   `, `the`, `a b c`, `"unterminated`, `col:"x"`, `🏠`,
		strings.Repeat("deposit ", 5000), strings.Repeat("é", 3000)} {
		if _, err := e.s.Search(e.ctx, e.ana, q, 0); err != nil {
			t.Errorf("Search %q: %v", q, err)
		}
	}
	// Syntax is text: "NEAR(deposit" finds the deposit, column filters don't apply.
	if hits, err := e.s.Search(e.ctx, e.ana, `NEAR(deposit`, 0); err != nil || len(hits) == 0 || hits[0].ID != ms[0].ID {
		t.Errorf(`Search "NEAR(deposit" = %v, %v`, subjects(hits), err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, `text:bouldering`, 0); err != nil || len(hits) != 1 {
		t.Errorf(`Search "text:bouldering" = %v, %v`, subjects(hits), err)
	}
	if hits, err := e.s.Search(e.ctx, e.ana, `the`, 0); err != nil || len(hits) != 0 {
		t.Errorf(`Search "the" = %v, %v; want nothing`, subjects(hits), err)
	}
	// Isolation: bob finds only his own.
	hits, err = e.s.Search(e.ctx, e.bob, "deposit karl flat bouldering", 0)
	if err != nil || len(hits) != 1 || hits[0].Subject != "Bob's deposit" {
		t.Errorf("Search as bob = %v, %v; want only his own", subjects(hits), err)
	}
}
