package app

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/sqlitedocs"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
	"github.com/os1ai/os1/internal/store"
)

// Books as os1 serve wires them: the user's documents are the letters,
// internal/book typesets the PDF in the background, and book_send (a tool
// behind an approval card) sends it over the mail account's SMTP.
func TestBooksWired(t *testing.T) {
	dc := dovecottest.Start(t)
	dc.AddUser("theo", "pw")
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"theo": "pw"}})
	cfg := testConfigWith(t, "OS1_MAIL_SYNC_EVERY", "0s")
	ctx := context.Background()
	a, err := New(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Books == nil || a.Books.Mail == nil {
		t.Fatal("books, or their mail, are not built")
	}
	if err := a.DB.CreateUser(ctx, store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theo", Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(dc.Addr, ":")
	p, _ := strconv.Atoi(port)
	if _, err := a.Mail.Service.AddAccount(ctx, "usr_theo", mail.AccountInput{Address: "theo@example.com", Username: "theo", Password: "pw",
		IMAP: mail.Endpoint{Host: host, Port: p, Security: mail.Plain}, SMTP: sink.Endpoint()}); err != nil {
		t.Fatal(err)
	}
	docs := documents.New(sqlitedocs.New(a.DB), a.Clock, clock.RandomIDs{})
	d, err := docs.Create(ctx, "usr_theo", documents.NewDocument{Title: "To Chris", Kind: "letter", Body: "Dear Chris, the pear tree bloomed."})
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Books.Create(ctx, "usr_theo", books.NewBook{Title: "Letters", Author: "Theo", Letters: []string{d.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Books.Build(ctx, "usr_theo", b.ID, books.PDF); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := a.Books.Status(ctx, "usr_theo", b.ID, books.PDF)
		if err != nil || st.State == books.StateFailed {
			t.Fatalf("build: %+v, %v", st, err)
		}
		if st.State == books.StateDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build did not finish: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tool, ok := a.Companion.Tools().Lookup("book_send")
	if !ok || !tool.SideEffects || tool.Review == nil {
		t.Fatalf("book_send: registered %v, approval %v", ok, tool.SideEffects)
	}
	info, err := a.Books.FileInfo(ctx, "usr_theo", b.ID, books.PDF)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"book_id": b.ID, "to": "editor@press.example", "cover_letter": "Dear editor,\n\nMy letters.\n\nTheo",
		"file": info.SHA256})
	card := tool.Review(ctx, store.Action{UserID: "usr_theo", Arguments: raw})
	if !strings.Contains(card, "From: theo@example.com") || !strings.Contains(card, "Attachment: Letters.pdf (application/pdf,") {
		t.Fatalf("card:\n%s", card)
	}
	if n := len(sink.Deliveries()); n != 0 {
		t.Fatalf("%d sent before the run", n)
	}
	if _, err := tool.Run(ctx, companion.Call{UserID: "usr_theo", Args: raw, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ds := sink.Deliveries()
	if len(ds) != 1 || ds[0].Rcpts[0] != "editor@press.example" || !strings.Contains(string(ds[0].Data), "application/pdf") {
		t.Fatalf("deliveries: %d", len(ds))
	}
}
