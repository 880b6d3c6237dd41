// Package booktools gives the companion its book tools: book_list (no side
// effect) and book_send, which emails a built book to a publisher with a
// cover letter she writes, only after the user approves the exact message
// (From, To, Subject, body) and attachment (name, size) on its card.
//
// The card and the send are made by the same books.Service.PrepareSend
// from the same arguments, and the arguments name the built file by its
// SHA-256 (from book_list): the card shows that file, and the send goes
// only with it, so a rebuild after the card was shown is never sent.
package booktools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// SourceName is the tools' source: book_list, book_send.
const SourceName = "book"

// Register adds the book tools to r.
func Register(r *companion.Registry, svc *books.Service) error {
	return r.RegisterFrom(SourceName, Tools(svc)...)
}

type sendArgs struct {
	BookID      string `json:"book_id"`
	Format      string `json:"format"`
	To          string `json:"to"`
	Subject     string `json:"subject"`
	CoverLetter string `json:"cover_letter"`
	Account     string `json:"account"`
	// File is the built file's fingerprint (SHA-256, at least its first 12
	// hex digits) from book_list: the card shows that file, and the send
	// goes only with it, so a rebuild after the approval card was shown
	// is never what is sent.
	File string `json:"file"`
}

// minFingerprint is the shortest prefix of a file's SHA-256 accepted.
const minFingerprint = 12

func (a sendArgs) check(m books.Message) error {
	f := strings.ToLower(strings.TrimSpace(a.File))
	if len(f) < minFingerprint {
		return fmt.Errorf("give the built file's fingerprint (file, from book_list) so the user approves that exact file")
	}
	if !strings.HasPrefix(m.Attachment.SHA256, f) {
		return books.ErrChanged
	}
	return nil
}

func (a sendArgs) request() books.SendRequest {
	f := a.Format
	if f == "" {
		f = books.PDF
	}
	return books.SendRequest{Format: f, To: a.To, Subject: a.Subject, Body: a.CoverLetter, Account: a.Account}
}

// Tools returns the book tools, named without their "book_" prefix.
func Tools(svc *books.Service) []companion.Tool {
	t := &tools{svc: svc}
	return []companion.Tool{
		{
			Name:        "list",
			Description: "List the user's books (collections of their letters): id, title, number of letters, and which formats are built, each with its file fingerprint (for book_send).",
			Parameters:  json.RawMessage(`{"type":"object","properties":{}}`),
			Run:         t.list,
		},
		{
			Name: "send",
			Description: "Email one of the user's built books (EPUB or PDF, as attachment) to a publisher from the user's mail account, " +
				"with a cover letter you write in the user's voice. Only when the user asks to send it, and only to the address the user gives. " +
				"The user sees the exact message and attachment and must approve first.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"book_id":{"type":"string","description":"the book (from book_list)"},` +
				`"format":{"type":"string","enum":["pdf","epub"],"description":"which built file to attach (default pdf)"},` +
				`"to":{"type":"string","description":"the publisher's email address"},` +
				`"subject":{"type":"string","description":"the subject (default: Manuscript: <title>)"},` +
				`"cover_letter":{"type":"string","description":"the cover letter, the email's body, signed with the user's name"},` +
				`"account":{"type":"string","description":"id of the mail account to send from, when the user has several"},` +
				`"file":{"type":"string","description":"the built file's fingerprint, from book_list"}},"required":["book_id","to","cover_letter","file"]}`),
			SideEffects: true,
			Summary:     func(raw json.RawMessage) string { return "Send a book by email: " + textsafe.Displayable(string(raw)) },
			Review:      t.card,
			Run:         t.send,
		},
	}
}

type tools struct{ svc *books.Service }

func (t *tools) list(ctx context.Context, c companion.Call) (string, error) {
	list, err := t.svc.List(ctx, c.UserID)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "The user has no books yet (they make one on the Book page).", nil
	}
	var b strings.Builder
	for _, bk := range list {
		var built []string
		for _, f := range []string{books.PDF, books.EPUB} {
			if st, err := t.svc.Status(ctx, c.UserID, bk.ID, f); err == nil && st.State == books.StateDone {
				fp := "?"
				if info, err := t.svc.FileInfo(ctx, c.UserID, bk.ID, f); err == nil {
					fp = info.SHA256[:min(len(info.SHA256), 16)]
				}
				built = append(built, fmt.Sprintf("%s (file %s, %d bytes)", f, fp, st.Size))
			}
		}
		if len(built) == 0 {
			built = []string{"not built yet"}
		}
		fmt.Fprintf(&b, "- %q [id %s]: %d letters; built: %s\n", textsafe.CleanTitle(bk.Title), bk.ID, len(bk.Letters), strings.Join(built, ", "))
	}
	return b.String(), nil
}

func parse(raw json.RawMessage) (sendArgs, error) {
	var a sendArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("book_send: %w", err)
	}
	return a, nil
}

// card shows the exact message and attachment that would go.
func (t *tools) card(ctx context.Context, act store.Action) string {
	a, err := parse(act.Arguments)
	if err != nil {
		return "Send a book by email — " + textsafe.Displayable(err.Error())
	}
	m, err := t.svc.PrepareSend(ctx, act.UserID, a.BookID, a.request())
	if err == nil {
		err = a.check(m)
	}
	if err != nil {
		return "Send a book by email — " + textsafe.Displayable(err.Error())
	}
	return strings.Join(append(m.Card(), "File fingerprint (SHA-256): "+m.Attachment.SHA256), "\n")
}

func (t *tools) send(ctx context.Context, c companion.Call) (string, error) {
	a, err := parse(c.Args)
	if err != nil {
		return "", err
	}
	m, err := t.svc.PrepareSend(ctx, c.UserID, a.BookID, a.request())
	if err != nil {
		return "", err
	}
	if err := a.check(m); err != nil {
		return "", err
	}
	if _, err := t.svc.Send(ctx, c.UserID, a.BookID, m); err != nil {
		return "", err
	}
	return fmt.Sprintf("Sent %s (%d bytes) to %s from %s.", m.Attachment.Name, m.Attachment.Size, m.To, m.From), nil
}
