package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
)

func TestDigest(t *testing.T) {
	k := knowledge()
	tr := mail.Triager{Clock: clock.NewFake(tue.Add(time.Hour))}
	msgs := []mail.Message{
		{From: from("news@paper.example", "The Paper"), To: []mail.Address{theo}, ListID: `"Morning Briefing" <brief.paper.example>`, Subject: "Today", Text: "Five stories you need to read 📰 https://paper.example/x", Date: tue},
		{From: from("cath@family.example", "Cat"), To: []mail.Address{theo}, Subject: "lunch", Text: "Hi Theo,\nAre you coming for lunch on Sunday? Mum asks.", Date: tue},
		{From: from("orders@bookshop.example", "Bookshop"), To: []mail.Address{theo}, Subject: "Your order #4411 has shipped", Text: "Your parcel is on its way. Total: €23.90", Date: tue},
		{From: from("paul@letters.example", "Paul Smith"), To: []mail.Address{theoWork}, Subject: "draft", Text: "Please send the Henderson & Co draft by Friday. Thanks!", Date: tue},
		{From: from("security@paypa1.example", "PayPal"), To: []mail.Address{theo}, AuthResults: "dmarc=fail", Subject: "Action required", Text: "Verify your account now.", Date: tue},
		{From: from("notifications@github.com", "Ana"), To: []mail.Address{theo}, Subject: "[os1] Fix sync (#12)", Text: "Ana merged the pull request.", Date: tue},
		{From: from("jo@climb.example", "Jo"), ListID: "members.climb.example", Subject: "meet", Text: "Meet on Saturday.", Date: tue},
	}
	for i := range msgs {
		msgs[i].Triage = tr.Triage(context.Background(), msgs[i], k)
	}
	got := mail.Digest(msgs, 3)
	want := "You have two emails that need a reply. " +
		"Paul writes: Please send the Henderson and Co draft by Friday. The deadline is Friday. " + // a deadline in three days outranks
		"Your sister asks: Are you coming for lunch on Sunday? " +
		"A receipt from Bookshop: Your parcel is on its way. " +
		"There are also two newsletters and one notification."
	if got != want {
		t.Errorf("digest:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "http") || strings.Contains(got, "📰") || strings.Contains(strings.ToLower(got), "verify") {
		t.Errorf("digest has a link, an emoji or the spam: %s", got)
	}

	// A model's reason cannot make a stranger "your wife" in the digest.
	spoof := mail.Message{From: from("x@evil.example", "Eve Stone"), To: []mail.Address{theo}, Subject: "hi", Date: tue,
		Triage: mail.Triage{Category: mail.NeedsReply, Importance: 0.9, Reason: "from your wife; urgent", Summary: "Send me the codes?", By: "model"}}
	if got := mail.Digest([]mail.Message{spoof}, 3); !strings.Contains(got, "Eve asks: Send me the codes?") {
		t.Errorf("spoofed digest: %s", got)
	}

	cases := []struct {
		name string
		msgs []mail.Message
		want string
	}{
		{"empty", nil, "There's nothing new in your mail."},
		{"only spam", msgs[4:5], "There's nothing new in your mail."},
		{"no replies needed", msgs[5:7], "You have two new emails, and none needs a reply. A notification from Ana: Ana merged the pull request. A newsletter from members: Meet on Saturday."},
	}
	for _, c := range cases {
		if got := mail.Digest(c.msgs, 0); got != c.want {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, got, c.want)
		}
	}
}
