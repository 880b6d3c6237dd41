package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
)

func needsReply(reason string) mail.Triage {
	return mail.Triage{Category: mail.NeedsReply, Importance: 0.7, Reason: reason, By: "rules", At: tue}
}

func TestOwed(t *testing.T) {
	fri := tue.AddDate(0, 0, 3).Add(30 * time.Minute) // Friday 10:00
	mon := tue.AddDate(0, 0, -1)
	msgs := []mail.Message{
		{ID: "c1", From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: "lunch", ThreadID: "t-lunch", Date: tue,
			Triage: needsReply("from your sister; asks about lunch")},
		{ID: "p1", From: from("paul@letters.example", "Paul Smith"), To: []mail.Address{theoWork}, Subject: "Re: Re: draft", Date: fri.Add(-19 * time.Hour),
			Triage: needsReply("from Paul; asks you a question")},
		{ID: "a1", From: from("amy@example.org", "Amy"), To: []mail.Address{theo}, Subject: "photos?", Date: mon, Flags: []string{`\Seen`, `\Answered`},
			Triage: needsReply("")},
		{ID: "v1", From: from("events@venue.example", "Venue"), To: []mail.Address{theo}, Subject: "guests", ThreadID: "t-venue", Date: mon,
			Triage: needsReply("")},
		{ID: "v2", From: theo, To: []mail.Address{{Email: "events@venue.example"}}, Subject: "Re: guests", ThreadID: "t-venue", Date: tue},
		{ID: "b1", From: from("ben@example.net", "Ben"), To: []mail.Address{theo}, Subject: "keys", MessageID: "k1@example.net", Date: mon,
			Triage: needsReply("")},
		{ID: "b2", From: theo, To: []mail.Address{{Email: "ben@example.net"}}, Subject: "Re: keys", InReplyTo: "k1@example.net", Date: tue},
		{ID: "d1", From: from("dana@example.net", "dana@example.net"), To: []mail.Address{theo}, Subject: "", ThreadID: "t-dana", Date: mon.AddDate(0, 0, -10),
			Triage: needsReply("")},
		{ID: "d0", From: theo, To: []mail.Address{{Email: "dana@example.net"}}, Subject: "hello", ThreadID: "t-dana", Date: mon.AddDate(0, 0, -11)}, // before: no answer
		{ID: "n1", From: from("news@shop.example", ""), To: []mail.Address{theo}, Subject: "sale", Date: mon, Triage: mail.Triage{Category: mail.Newsletter}},
		{ID: "x1", From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: "old", Date: mon, Triage: mail.Triage{Category: mail.NeedsReply, Archive: true}},
	}
	r := mail.Replies{Clock: clock.NewFake(fri), Me: knowledge()}
	got := r.Owed(msgs)
	want := []struct{ id, nudge string }{
		{"d1", "You haven't answered dana's email from 27 November, 2 weeks ago."},
		{"c1", "You haven't answered your sister's email about “lunch” from Tuesday, 3 days ago."},
		{"p1", ""}, // under two days: owed, no nudge yet
	}
	if len(got) != len(want) {
		var ids []string
		for _, g := range got {
			ids = append(ids, g.Message.ID)
		}
		t.Fatalf("owed %v, want %v", ids, want)
	}
	for i, w := range want {
		if got[i].Message.ID != w.id || got[i].Nudge != w.nudge {
			t.Errorf("owed %d: %s %q, want %s %q", i, got[i].Message.ID, got[i].Nudge, w.id, w.nudge)
		}
	}
	if got[1].Age != fri.Sub(tue) {
		t.Errorf("age %v, want %v from the injected clock", got[1].Age, fri.Sub(tue))
	}
	// A shorter threshold nudges Paul too.
	r.OwedAfter = 12 * time.Hour
	if got := r.Owed(msgs); got[2].Nudge != "You haven't answered Paul's email about “draft” from yesterday." {
		t.Errorf("nudge %q", got[2].Nudge)
	}
}

func TestAwaiting(t *testing.T) {
	fri := tue.AddDate(0, 0, 3).Add(30 * time.Minute)
	mon := tue.AddDate(0, 0, -1)
	brown := mail.Address{Name: "Mr Brown", Email: "brown@lettings.example"}
	msgs := []mail.Message{
		{ID: "s1", From: theo, To: []mail.Address{brown}, Subject: "deposit", Text: "Hello Mr Brown,\nWhen can you return the deposit?\nTheo", ThreadID: "t1", Date: mon},
		{ID: "s2", From: theo, To: []mail.Address{{Name: "Amy", Email: "amy@example.org"}}, Subject: "photos", Text: "Could you send the photos?", ThreadID: "t2", Date: mon.AddDate(0, 0, -2)},
		{ID: "s2r", From: from("amy@example.org", "Amy"), To: []mail.Address{theo}, Subject: "Re: photos", ThreadID: "t2", Date: mon.AddDate(0, 0, -1)},
		{ID: "s3", From: theoWork, To: []mail.Address{{Email: "paul@letters.example"}}, Subject: "draft", Text: "Is the draft ready?", ThreadID: "t3", Date: fri.Add(-20 * time.Hour)},
		{ID: "s4", From: theoWork, To: []mail.Address{{Email: "paul@letters.example"}}, Subject: "done", Text: "The letters are done.", ThreadID: "t4", Date: mon.AddDate(0, 0, -2)},
		{ID: "s5", From: theo, To: []mail.Address{{Name: "Amy", Email: "amy@example.org"}, {Name: "Ben", Email: "ben@example.net"}}, Subject: "Re: trip",
			Text: "Shall we book the train?\n\nOn Sun Amy wrote:\n> trip!", ThreadID: "t5", Date: mon.AddDate(0, 0, -3)},
		{ID: "s6", From: theo, To: []mail.Address{{Name: "Ana", Email: "ana@example.org"}}, Subject: "dinner", Text: "Are you free Saturday?", ThreadID: "t6", Date: mon.AddDate(0, 0, -2)},
		{ID: "s6b", From: theo, To: []mail.Address{{Name: "Ana", Email: "ana@example.org"}}, Subject: "Re: dinner", Text: "Just checking.", ThreadID: "t6", Date: mon},
		{ID: "q1", From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: "lunch?", Text: "Lunch?", Date: mon.AddDate(0, 0, -5)},
	}
	r := mail.Replies{Clock: clock.NewFake(fri), Me: knowledge()}
	var got []string
	for _, it := range r.Awaiting(msgs) {
		got = append(got, it.Message.ID+": "+it.Nudge)
	}
	want := []string{
		"s5: Nobody has answered your email about “trip” from 4 December, a week ago.",
		"s6: Ana hasn't answered your email about “dinner” from Saturday, 6 days ago.",
		"s1: Mr Brown hasn't answered your email about “deposit” from Monday, 4 days ago.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("awaiting:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
