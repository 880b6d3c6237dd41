package smtpsend

import (
	"strings"

	"github.com/os1ai/os1/internal/mail"
)

// maxReferences bounds a reply's References: the thread's first message
// and the latest ones (RFC 5322 §3.6.4 allows trimming the middle).
const maxReferences = 20

// ReplyTo builds a reply to m from userAddr: To is m's Reply-To (or its
// From), the subject gains one "Re: ", In-Reply-To is m's Message-ID and
// References is m's References followed by it.
func ReplyTo(m mail.Message, userAddr, body string) Draft {
	to := m.ReplyTo
	if len(to) == 0 {
		to = []mail.Address{m.From}
	}
	d := Draft{
		From:    mail.Address{Email: userAddr},
		To:      append([]mail.Address(nil), to...),
		Subject: replySubject(m.Subject),
		Body:    body,
	}
	if m.MessageID != "" {
		d.InReplyTo = m.MessageID
		refs := append(append([]string(nil), m.References...), m.MessageID)
		if len(refs) > maxReferences {
			refs = append(refs[:1:1], refs[len(refs)-maxReferences+1:]...)
		}
		d.References = refs
	} else if len(m.References) > 0 {
		d.References = append([]string(nil), m.References...)
	}
	return d
}

// ReplyAll is ReplyTo that also copies m's other recipients (its To and
// Cc) onto Cc, leaving out the user and anyone already in To.
func ReplyAll(m mail.Message, userAddr, body string) Draft {
	d := ReplyTo(m, userAddr, body)
	seen := map[string]bool{strings.ToLower(userAddr): true}
	for _, a := range d.To {
		seen[strings.ToLower(a.Email)] = true
	}
	for _, a := range append(append([]mail.Address(nil), m.To...), m.Cc...) {
		k := strings.ToLower(a.Email)
		if a.Email == "" || seen[k] {
			continue
		}
		seen[k] = true
		d.Cc = append(d.Cc, a)
	}
	return d
}

// replySubject adds "Re: " unless the subject already starts with a reply
// prefix (Re:, RE:, re :), so a thread does not grow "Re: Re: Re:".
func replySubject(s string) string {
	t := strings.TrimSpace(s)
	if len(t) >= 3 && strings.EqualFold(t[:2], "re") {
		rest := strings.TrimLeft(t[2:], " ")
		if strings.HasPrefix(rest, ":") {
			return t
		}
	}
	return "Re: " + t
}
