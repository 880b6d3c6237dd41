package sqlitemail_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
)

// Syncs racing on one folder (two nodes, or a sync beside a user's
// action) store each message once, under one id every caller is given,
// and leave one folder state: what was saved last, whole. On PostgreSQL
// the upserts wait for each other (ON CONFLICT), as SQLite's writers do.
func TestConcurrentSync(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			s, u := withAccount(t, b.open(t))
			const workers, n = 6, 40
			ids := make([][]string, workers)
			errs := make(chan error, 4*workers)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					batch := make([]mail.Message, n)
					for i := range batch {
						batch[i] = mail.Message{AccountID: "acc", Folder: "INBOX", UIDValidity: 9, UID: uint32(i + 1),
							Subject: fmt.Sprintf("m%d from worker %d", i, w), Text: "pangolin"}
					}
					if err := s.PutMessages(ctx, u, batch); err != nil {
						errs <- err
						return
					}
					for _, m := range batch {
						ids[w] = append(ids[w], m.ID)
					}
					f := mail.Folder{AccountID: "acc", Name: "INBOX", UIDValidity: 9, UIDNext: uint32(100 + w), Messages: w, Complete: true}
					if err := s.SaveFolder(ctx, u, f); err != nil {
						errs <- err
					}
					if err := s.SetTriage(ctx, u, batch[w].ID, mail.Triage{Category: mail.FYI, Reason: fmt.Sprint("worker ", w), At: batch[0].Date.AddDate(2000, 0, 0)}); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if t.Failed() {
				return
			}
			for w := 1; w < workers; w++ {
				if !slices.Equal(ids[w], ids[0]) {
					t.Errorf("worker %d was given ids %v, worker 0 %v", w, ids[w], ids[0])
				}
			}
			list, err := s.Messages(ctx, u, mail.Query{Limit: 500})
			if err != nil || len(list) != n {
				t.Fatalf("%d messages stored, want %d (%v)", len(list), n, err)
			}
			folders, err := s.Folders(ctx, u, "acc")
			if err != nil || len(folders) != 1 || folders[0].UIDNext != uint32(100+folders[0].Messages) || !folders[0].Complete {
				t.Errorf("folders after racing saves: %+v, %v; want one, whole", folders, err)
			}
			if hits, err := s.Search(ctx, u, "pangolin", 100); err != nil || len(hits) != n {
				t.Errorf("search after racing syncs: %d hits, %v; want %d", len(hits), err, n)
			}
		})
	}
}

// Free text keeps NUL and PostgreSQL's escape byte whole on both
// dialects, and the words before a NUL are found.
func TestControlCharacters(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			db := b.open(t)
			s := sqlitemail.New(db)
			u := newUser(t, db, "ana")
			odd := "\x00\x01\x01\x02\x00\x02 a\x01b \x01\x00 end\x01"
			acc := mail.Account{ID: "acc", UserID: u, Address: "ana@example.com", Name: "Work" + odd, LastError: odd}
			if err := s.CreateAccount(ctx, acc); err != nil {
				t.Fatal(err)
			}
			m := mail.Message{AccountID: "acc", Folder: "INBOX", UID: 1, Subject: "lemur\x00gibbon" + odd,
				From: mail.Address{Name: odd, Email: "x@example.com"}, Text: "walrus\x00narwhal" + odd,
				Triage: mail.Triage{Reason: odd, Summary: odd, By: odd}}
			ms := []mail.Message{m}
			if err := s.PutMessages(ctx, u, ms); err != nil {
				t.Fatal(err)
			}
			got, err := s.Message(ctx, u, ms[0].ID)
			if err != nil || got.Subject != m.Subject || got.Text != m.Text || got.From.Name != odd ||
				got.Triage.Reason != odd || got.Triage.Summary != odd || got.Triage.By != odd {
				t.Errorf("message came back as %q %q %q %+v, %v", got.Subject, got.Text, got.From.Name, got.Triage, err)
			}
			if a, err := s.Account(ctx, u, "acc"); err != nil || a.Name != acc.Name || a.LastError != odd {
				t.Errorf("account came back as %q %q, %v", a.Name, a.LastError, err)
			}
			if err := s.SaveRule(ctx, mail.Rule{ID: "r", UserID: u, Text: odd}); err != nil {
				t.Fatal(err)
			}
			if rules, err := s.Rules(ctx, u); err != nil || len(rules) != 1 || rules[0].Text != odd {
				t.Errorf("rules came back as %+v, %v", rules, err)
			}
			// SQLite's index stops at a column's first NUL; PostgreSQL's
			// reads on (the NUL is an escape there).
			found := []string{"lemur", "walrus"}
			if b.name == "postgres" {
				found = append(found, "gibbon", "narwhal", "end")
			}
			for _, q := range found {
				if hits, err := s.Search(ctx, u, q, 0); err != nil || len(hits) != 1 {
					t.Errorf("Search %q: %d hits, %v", q, len(hits), err)
				}
			}
		})
	}
}

// A message of as many distinct words as the indexed prefixes hold is
// stored and found (PostgreSQL caps a tsvector at 1 MB).
func TestManyDistinctWords(t *testing.T) {
	words := func(n, from int) string {
		var b strings.Builder
		for i := range n {
			k := from + i
			b.WriteRune(rune(0x4E00 + k%20000))
			b.WriteRune(rune(0x4E00 + k/20000*97%20000))
			b.WriteByte(' ')
		}
		return b.String()
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			s, u := withAccount(t, b.open(t))
			const per = sqlitemail.IndexedChars / 3
			m := mail.Message{AccountID: "acc", Folder: "INBOX", UID: 1, Subject: "okapi " + words(per, 0),
				From: mail.Address{Name: words(per, per)}, Text: "tapir " + words(per, 2*per)}
			if err := s.PutMessages(ctx, u, []mail.Message{m}); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"okapi", "tapir"} {
				if hits, err := s.Search(ctx, u, q, 0); err != nil || len(hits) != 1 {
					t.Errorf("Search %q: %d hits, %v", q, len(hits), err)
				}
			}
		})
	}
}

// Search folds accents and splits words at punctuation, ASCII or not, on
// both dialects (FTS5's unicode61 with remove_diacritics; mail_fts_text
// and mail_fold on PostgreSQL).
func TestSearchFoldsAccents(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			s, u := withAccount(t, b.open(t))
			ms := []mail.Message{
				{AccountID: "acc", Folder: "INBOX", UID: 1, Subject: "Café Größe", Text: "naïve—zebra «quagga»"},
				{AccountID: "acc", Folder: "INBOX", UID: 2, Subject: "cafe plain"},
			}
			if err := s.PutMessages(ctx, u, ms); err != nil {
				t.Fatal(err)
			}
			for q, want := range map[string]int{"cafe": 2, "CAFÉ": 2, "cafe\u0301": 2, "naive": 1, "zebra": 1, "quagga": 1, "größe": 1} {
				if hits, err := s.Search(ctx, u, q, 0); err != nil || len(hits) != want {
					t.Errorf("Search %q: %d hits, %v; want %d", q, len(hits), err, want)
				}
			}
		})
	}
}

// withAccount is a mail store on d with the user ana and her account "acc".
func withAccount(t *testing.T, d db) (*sqlitemail.Store, string) {
	t.Helper()
	s := sqlitemail.New(d)
	u := newUser(t, d, "ana")
	if err := s.CreateAccount(t.Context(), mail.Account{ID: "acc", UserID: u, Address: "ana@example.com"}); err != nil {
		t.Fatal(err)
	}
	return s, u
}
