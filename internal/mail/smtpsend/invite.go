package smtpsend

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
)

// InviteFile is the name the calendar attachment of an invitation has.
const InviteFile = "invite.ics"

// ComposeInvite writes d as an iMIP message (RFC 6047) carrying ics, an
// iTIP calendar of method (REQUEST, CANCEL, REPLY): multipart/mixed of a
// multipart/alternative (d.Body as text/plain, then ics as text/calendar
// with method=…, which mail apps show as an invitation) and ics again as
// the attachment invite.ics (application/ics) for apps that only offer
// attachments. d carries no other attachment. Headers are checked as
// Compose checks them.
func ComposeInvite(d Draft, method string, ics []byte, clk clock.Clock, ids clock.IDs) ([]byte, error) {
	if len(d.Attachments) > 0 {
		return nil, errors.New("an invitation carries only its calendar")
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if method == "" || strings.IndexFunc(method, func(r rune) bool { return (r < 'A' || r > 'Z') && r != '-' }) >= 0 {
		return nil, fmt.Errorf("%w: iTIP method %q", ErrHeader, method)
	}
	var h gomail.Header
	h.SetContentType("multipart/mixed", map[string]string{"boundary": "os1-" + ids.Token(12)})
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
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("compose the invitation %q: %w", d.Subject, err)
	}
	mw, err := message.CreateWriter(&buf, h.Header)
	if err != nil {
		return fail(err)
	}
	var ah message.Header
	ah.SetContentType("multipart/alternative", map[string]string{"boundary": "os1-" + ids.Token(12)})
	aw, err := mw.CreatePart(ah)
	if err != nil {
		return fail(err)
	}
	var th message.Header
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := aw.CreatePart(th)
	if err != nil {
		return fail(err)
	}
	if err := writeClose(pw, []byte(normalizeNewlines(d.Body))); err != nil {
		return fail(err)
	}
	var ch message.Header
	ch.SetContentType("text/calendar", map[string]string{"charset": "utf-8", "method": method})
	ch.Set("Content-Transfer-Encoding", "base64")
	pw, err = aw.CreatePart(ch)
	if err != nil {
		return fail(err)
	}
	if err := writeClose(pw, ics); err != nil {
		return fail(err)
	}
	if err := aw.Close(); err != nil {
		return fail(err)
	}
	var fh gomail.AttachmentHeader
	fh.SetContentType("application/ics", map[string]string{"name": InviteFile})
	fh.SetFilename(InviteFile)
	fh.Set("Content-Transfer-Encoding", "base64")
	pw, err = mw.CreatePart(fh.Header)
	if err != nil {
		return fail(err)
	}
	if err := writeClose(pw, ics); err != nil {
		return fail(err)
	}
	if err := mw.Close(); err != nil {
		return fail(err)
	}
	return buf.Bytes(), nil
}
