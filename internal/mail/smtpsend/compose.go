// Package smtpsend writes and sends the user's mail: Compose turns a Draft
// into an RFC 5322 message (Message-ID, Date, threading headers, UTF-8 text
// in quoted-printable, attachments in multipart/mixed) with go-message, and
// Send submits it over SMTP with go-smtp (TLS, STARTTLS, or plain only to a
// loopback address), signing in with SASL PLAIN/LOGIN or XOAUTH2.
//
// It must never send anything on its own: it is called only by a tool the
// user approved. Nothing here lets text from a draft become a header or an
// envelope recipient: CR, LF and other control characters in a subject,
// name, address or attachment name are refused (ErrHeader), not folded.
package smtpsend

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"unicode"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
)

// ErrHeader means a draft's field would break or add a header: a control
// character (CR, LF, NUL…) in a subject, name or attachment name, or an
// address that is not one plain mailbox.
var ErrHeader = errors.New("unsafe header value")

// Draft is a message to compose.
type Draft struct {
	From        mail.Address   `json:"from"`
	To          []mail.Address `json:"to"`
	Cc          []mail.Address `json:"cc,omitempty"`
	Subject     string         `json:"subject"`
	Body        string         `json:"body"`
	InReplyTo   string         `json:"in_reply_to,omitempty"` // a Message-ID, without <>
	References  []string       `json:"references,omitempty"`  // Message-IDs, without <>
	Attachments []Attachment   `json:"attachments,omitempty"`
}

// Attachment is a file sent with a draft.
type Attachment struct {
	Name string `json:"name"`
	MIME string `json:"mime"`
	Data []byte `json:"-"`
}

// Recipients is every envelope recipient of d (To, then Cc), each once.
func (d Draft) Recipients() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range append(append([]mail.Address(nil), d.To...), d.Cc...) {
		k := strings.ToLower(a.Email)
		if !seen[k] {
			seen[k] = true
			out = append(out, a.Email)
		}
	}
	return out
}

// Validate checks that every field of d can be written as a header without
// changing the message's structure, and that it has a sender and a recipient.
func (d Draft) Validate() error {
	if err := checkAddress("From", d.From); err != nil {
		return err
	}
	if len(d.To)+len(d.Cc) == 0 {
		return fmt.Errorf("%w: the message has no recipient", ErrHeader)
	}
	for _, a := range d.To {
		if err := checkAddress("To", a); err != nil {
			return err
		}
	}
	for _, a := range d.Cc {
		if err := checkAddress("Cc", a); err != nil {
			return err
		}
	}
	if err := checkText("Subject", d.Subject); err != nil {
		return err
	}
	for _, id := range append([]string{d.InReplyTo}, d.References...) {
		if strings.ContainsAny(id, "<> \t") || strings.IndexFunc(id, unicode.IsControl) >= 0 {
			return fmt.Errorf("%w: message id %q", ErrHeader, id)
		}
	}
	for _, a := range d.Attachments {
		if err := checkText("attachment name", a.Name); err != nil {
			return err
		}
		if a.Name == "" {
			return fmt.Errorf("%w: an attachment has no name", ErrHeader)
		}
		if _, _, err := mime.ParseMediaType(a.MIME); err != nil || strings.IndexFunc(a.MIME, unicode.IsControl) >= 0 {
			return fmt.Errorf("%w: attachment %q has media type %q", ErrHeader, a.Name, a.MIME)
		}
	}
	return nil
}

// checkText refuses control characters (tabs aside) in a header's text.
func checkText(field, s string) error {
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }); i >= 0 {
		return fmt.Errorf("%w: %s holds control character %U at byte %d", ErrHeader, field, []rune(s[i:])[0], i)
	}
	return nil
}

// checkAddress accepts one plain mailbox: a name without control
// characters and an address that net/mail parses back to itself.
func checkAddress(field string, a mail.Address) error {
	if err := checkText(field+" name", a.Name); err != nil {
		return err
	}
	if a.Email == "" || strings.IndexFunc(a.Email, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 ||
		strings.ContainsAny(a.Email, "<>,;:\"()[]\\") {
		return fmt.Errorf("%w: %s address %q is not one mailbox", ErrHeader, field, a.Email)
	}
	p, err := netmail.ParseAddress(a.Email)
	if err != nil || !strings.EqualFold(p.Address, a.Email) || !strings.Contains(a.Email, "@") {
		return fmt.Errorf("%w: %s address %q is not one mailbox", ErrHeader, field, a.Email)
	}
	return nil
}

// Compose writes d as an RFC 5322 message dated clk's now, with a
// Message-ID from ids at the sender's domain. Text is UTF-8 in
// quoted-printable; with attachments the message is multipart/mixed
// (boundary from ids, so a fake IDs source gives the same bytes each run).
func Compose(d Draft, clk clock.Clock, ids clock.IDs) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	// go-message writes the newest field first: set them last to first, so
	// the message reads Date, From, To, Cc, Subject, Message-ID, threading.
	var h gomail.Header
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	h.Set("MIME-Version", "1.0")
	if len(d.References) > 0 {
		h.SetMsgIDList("References", d.References)
	}
	if d.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{d.InReplyTo})
	}
	_, domain, _ := strings.Cut(d.From.Email, "@")
	h.SetMessageID(ids.NewID("os1.") + "@" + strings.ToLower(domain))
	h.SetSubject(d.Subject)
	if len(d.Cc) > 0 {
		h.SetAddressList("Cc", addrs(d.Cc))
	}
	h.SetAddressList("To", addrs(d.To))
	h.SetAddressList("From", addrs([]mail.Address{d.From}))
	h.SetDate(clk.Now())

	var buf bytes.Buffer
	body := normalizeNewlines(d.Body)
	if len(d.Attachments) == 0 {
		w, err := message.CreateWriter(&buf, h.Header)
		if err != nil {
			return nil, fmt.Errorf("compose %q: %w", d.Subject, err)
		}
		if err := writeClose(w, []byte(body)); err != nil {
			return nil, fmt.Errorf("compose %q: %w", d.Subject, err)
		}
		return buf.Bytes(), nil
	}
	h.Del("Content-Transfer-Encoding")
	h.SetContentType("multipart/mixed", map[string]string{"boundary": "os1-" + ids.Token(12)})
	mw, err := message.CreateWriter(&buf, h.Header)
	if err != nil {
		return nil, fmt.Errorf("compose %q: %w", d.Subject, err)
	}
	var th message.Header
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	th.SetContentDisposition("inline", nil)
	pw, err := mw.CreatePart(th)
	if err != nil {
		return nil, fmt.Errorf("compose %q: %w", d.Subject, err)
	}
	if err := writeClose(pw, []byte(body)); err != nil {
		return nil, fmt.Errorf("compose %q: %w", d.Subject, err)
	}
	for _, a := range d.Attachments {
		var ah gomail.AttachmentHeader
		ah.SetContentType(a.MIME, nil)
		ah.SetFilename(a.Name)
		ah.Set("Content-Transfer-Encoding", "base64")
		pw, err := mw.CreatePart(ah.Header)
		if err != nil {
			return nil, fmt.Errorf("compose %q: attachment %q: %w", d.Subject, a.Name, err)
		}
		if err := writeClose(pw, a.Data); err != nil {
			return nil, fmt.Errorf("compose %q: attachment %q: %w", d.Subject, a.Name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("compose %q: %w", d.Subject, err)
	}
	return buf.Bytes(), nil
}

func writeClose(w io.WriteCloser, b []byte) error {
	if _, err := w.Write(b); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// normalizeNewlines makes every line end in CRLF, the last one too, as
// SMTP needs; the quoted-printable encoder keeps CRLF as a hard line break.
func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func addrs(as []mail.Address) []*gomail.Address {
	out := make([]*gomail.Address, len(as))
	for i, a := range as {
		out[i] = &gomail.Address{Name: a.Name, Address: a.Email}
	}
	return out
}
