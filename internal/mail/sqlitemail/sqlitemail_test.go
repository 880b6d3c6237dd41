package sqlitemail_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailtest"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/pressly/goose/v3"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// db is a database the mail store runs on: SQLite or PostgreSQL.
type db interface {
	store.Store
	sqldb.Handle
}

// backends open a fresh database of each dialect (PostgreSQL through
// pgtest: postgres_test.go). Store-behaviour tests run on each.
var backends = []struct {
	name string
	open func(t *testing.T) db
}{
	{"sqlite", func(t *testing.T) db { return open(t) }},
	{"postgres", func(t *testing.T) db { return openPostgres(t) }},
}

// check runs the dialect's own consistency checks of the store's tables.
func check(t *testing.T, d db) {
	t.Helper()
	if s, ok := d.(*sqlite.DB); ok {
		checkIndex(t, s)
	}
}

func newUser(t *testing.T, db db, name string) string {
	t.Helper()
	id := "usr_" + name
	err := db.CreateUser(t.Context(), store.User{ID: id, Username: name, DisplayName: name, Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestContract(t *testing.T) {
	mailtest.Run(t, func(t *testing.T) (mail.Store, func(string) string) {
		db := open(t)
		t.Cleanup(func() { checkIndex(t, db) })
		return sqlitemail.New(db), func(name string) string { return newUser(t, db, name) }
	})
}

// checkIndex runs FTS5's integrity check of the index itself: the
// triggers index and un-index the same prefixes. (rank 1 would compare the
// index with the table too, and fail on any column longer than the prefix.)
func checkIndex(t *testing.T, db *sqlite.DB) {
	t.Helper()
	if _, err := db.SQL().ExecContext(context.Background(), `INSERT INTO mail_fts (mail_fts) VALUES ('integrity-check')`); err != nil {
		t.Errorf("mail full-text index: %v", err)
	}
}

// Deleting a user deletes their mail, and only theirs.
func TestDeleteUser(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testDeleteUser(t, b.open(t)) })
	}
}

func testDeleteUser(t *testing.T, db db) {
	ctx := t.Context()
	s := sqlitemail.New(db)
	ana, bob := newUser(t, db, "ana"), newUser(t, db, "bob")
	for _, u := range []string{ana, bob} {
		acc := mail.Account{ID: "acc_" + u, UserID: u, Address: u + "@example.com"}
		if err := s.CreateAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveFolder(ctx, u, mail.Folder{AccountID: acc.ID, Name: "INBOX"}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutMessages(ctx, u, []mail.Message{{AccountID: acc.ID, Folder: "INBOX", UID: 1, Subject: "marmot"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveRule(ctx, mail.Rule{ID: "r1", UserID: u, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteUser(ctx, ana); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"mail_accounts", "mail_folders", "mail_messages", "mail_rules"} {
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE user_id = ?`, ana).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows of a deleted user (%v)", table, n, err)
		}
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE user_id = ?`, bob).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d rows of the other user, want 1 (%v)", table, n, err)
		}
	}
	if hits, err := s.Search(ctx, bob, "marmot", 0); err != nil || len(hits) != 1 {
		t.Errorf("bob's search after ana left: %d hits, %v", len(hits), err)
	}
	check(t, db)
}

// Migration 00011 goes down and up again cleanly.
func TestMigrationDownUp(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	gp, err := goose.NewProvider(goose.DialectSQLite3, db.SQL(), sqlite.Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gp.DownTo(ctx, 10); err != nil {
		t.Fatalf("down to 10: %v", err)
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name LIKE 'mail_%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after down: %d mail objects left (%v)", n, err)
	}
	if _, err := gp.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	s := sqlitemail.New(db)
	u := newUser(t, db, "ana")
	if err := s.CreateAccount(ctx, mail.Account{ID: "a", UserID: u, Address: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMessages(ctx, u, []mail.Message{{AccountID: "a", Folder: "INBOX", UID: 1, Subject: "hello"}}); err != nil {
		t.Fatal(err)
	}
	if hits, err := s.Search(ctx, u, "hello", 0); err != nil || len(hits) != 1 {
		t.Errorf("search after down and up: %d hits, %v", len(hits), err)
	}
}

// The query never reaches FTS5 as syntax.
func TestQueryTerms(t *testing.T) {
	for in, want := range map[string]string{
		`what did the landlord say about the deposit?`: `"landlord" OR "say" OR "deposit"`,
		`rosa@example.com`:        `"rosa example com" OR "rosa" OR "example"`,
		`"NEAR(a b)" OR x* col:y`: `"near a" OR "near" OR "col y" OR "col"`,
		`*  ^ - ( ) " '`:          ``,
		`Deposit deposit DEPOSIT`: `"deposit"`,
		`a"b`:                     `"a b"`,
		`text:bouldering`:         `"text bouldering" OR "text" OR "bouldering"`,
		`café 2 x`:                `"café" OR "2"`,
	} {
		if got := strings.Join(sqlitemail.QueryTerms(in), " OR "); got != want {
			t.Errorf("queryTerms(%q) = %s, want %s", in, got, want)
		}
	}
}

// BenchmarkPutMessages stores messages the size of a typical email in
// batches of 100, as a first sync does.
func BenchmarkPutMessages(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "os1.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateUser(ctx, store.User{ID: "u", Username: "u", Role: store.RoleMember, PasswordHash: "x"}); err != nil {
		b.Fatal(err)
	}
	s := sqlitemail.New(db)
	if err := s.CreateAccount(ctx, mail.Account{ID: "a", UserID: "u", Address: "u@example.com"}); err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("Thanks for the update on the project, see you on Friday at the office. ", 40)
	uid := uint32(0)
	b.ResetTimer()
	for b.Loop() {
		batch := make([]mail.Message, 100)
		for i := range batch {
			uid++
			batch[i] = mail.Message{AccountID: "a", Folder: "INBOX", UIDValidity: 1, UID: uid,
				From: mail.Address{Name: "Rosa", Email: "rosa@example.org"}, To: []mail.Address{{Email: "u@example.com"}},
				Subject: "Project update", Date: time.Unix(int64(uid), 0), Text: text, Flags: []string{mail.FlagSeen}}
		}
		if err := s.PutMessages(ctx, "u", batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*100), "µs/message")
}

// BenchmarkSearch measures Search over benchN messages of one user (and
// as many of another's, which must not slow it), words drawn Zipf-like
// from a vocabulary, so some match almost every message and some a few.
// It reports the p50 and p99 of each kind of query over b.N rounds.
func BenchmarkSearch(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "os1.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	benchSearch(b, db)
}

// BenchmarkSearchPostgres is BenchmarkSearch on the test binary's
// PostgreSQL (over loopback, sharing the machine's cores).
func BenchmarkSearchPostgres(b *testing.B) {
	db, err := postgres.Open(context.Background(), pgtest.New(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	benchSearch(b, db)
}

func benchSearch(b *testing.B, db db) {
	ctx := context.Background()
	s := sqlitemail.New(db)
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%dx", i) // porter leaves these alone
	}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, uint64(len(vocab)-1))
	words := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteString(vocab[zipf.Uint64()])
			sb.WriteByte(' ')
		}
		return sb.String()
	}
	const benchN = 100_000
	for _, u := range []string{"u", "v"} {
		if err := db.CreateUser(ctx, store.User{ID: u, Username: u, Role: store.RoleMember, PasswordHash: "x"}); err != nil {
			b.Fatal(err)
		}
		if err := s.CreateAccount(ctx, mail.Account{ID: "a" + u, UserID: u, Address: u + "@example.com"}); err != nil {
			b.Fatal(err)
		}
		n := benchN
		if u == "v" {
			n = benchN / 10
		}
		for start := 0; start < n; start += 1000 {
			batch := make([]mail.Message, 1000)
			for i := range batch {
				uid := uint32(start + i + 1)
				batch[i] = mail.Message{AccountID: "a" + u, Folder: "INBOX", UIDValidity: 1, UID: uid,
					From:    mail.Address{Name: fmt.Sprintf("Person %d", rng.IntN(500)), Email: fmt.Sprintf("p%d@example.org", rng.IntN(500))},
					Subject: words(6), Date: time.Unix(int64(uid)*60, 0), Text: words(200)}
			}
			if err := s.PutMessages(ctx, u, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	queries := []struct{ name, q string }{
		{"rare", vocab[4000]},
		{"mid", vocab[300]},
		{"common", vocab[1]},
		{"commonest", vocab[0]},
		{"sender", "p42@example.org"},
		{"question", fmt.Sprintf("what did %s say about %s and %s?", "Person 7", vocab[50], vocab[2000])},
	}
	times := make([][]time.Duration, len(queries))
	b.ResetTimer()
	for b.Loop() {
		for i, q := range queries {
			start := time.Now()
			if _, err := s.Search(ctx, "u", q.q, 20); err != nil {
				b.Fatal(err)
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	for i, q := range queries {
		slices.Sort(times[i])
		n := len(times[i])
		b.ReportMetric(float64(times[i][n/2].Microseconds())/1000, q.name+"-p50-ms")
		b.ReportMetric(float64(times[i][min(n-1, n*99/100)].Microseconds())/1000, q.name+"-p99-ms")
	}
}

// Words in more than maxMatches messages are not ranked by BM25: beside a
// rare word they are dropped; alone, the most recently stored matches are
// the user's newest messages are ranked by how many of the words they hold,
// then newest first, and older matches follow.
func TestSearchCommonWords(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testSearchCommonWords(t, b.open(t)) })
	}
}

func testSearchCommonWords(t *testing.T, db db) {
	ctx := t.Context()
	s := sqlitemail.New(db)
	s.SetMaxMatches(4)
	u, v := newUser(t, db, "ana"), newUser(t, db, "bob")
	for _, id := range []string{u, v} {
		if err := s.CreateAccount(ctx, mail.Account{ID: "acc_" + id, UserID: id, Address: id + "@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	// Stored newest first, as a first sync does: date order is not storage order.
	texts := []string{"project budget", "project", "project budget zeppelin", "project", "project budget", "project kayak"}
	var ms []mail.Message
	for i, text := range texts {
		ms = append(ms, mail.Message{AccountID: "acc_" + u, Folder: "INBOX", UID: uint32(i + 1), Subject: fmt.Sprint("m", i),
			Text: text, Date: time.Date(2026, 1, 30-i, 0, 0, 0, 0, time.UTC)})
	}
	if err := s.PutMessages(ctx, u, ms); err != nil {
		t.Fatal(err)
	}
	// Bob's, stored later, match too and must neither show nor crowd ana's out.
	var bobs []mail.Message
	for i := range 6 {
		bobs = append(bobs, mail.Message{AccountID: "acc_" + v, Folder: "INBOX", UID: uint32(i + 1), Subject: "bob", Text: "project budget kayak"})
	}
	bobs[0].Text += " walrus"
	if err := s.PutMessages(ctx, v, bobs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q     string
		limit int
		want  string
	}{
		// The newest 4 by date (m0-m3), then older matches, most recently stored first.
		{"project", 0, "m0 m1 m2 m3 m5 m4"},
		{"project", 5, "m0 m1 m2 m3 m5"},
		{"project budget", 0, "m0 m2 m1 m3 m5 m4"}, // both words first
		{"project budget", 1, "m0"},
		{"project budget zeppelin", 0, "m2"}, // the rare word alone decides
		{"nothing-here project", 2, "m0 m1"}, // a word that matches nothing is dropped
		{"kayak", 0, "m5"},
		{"project walrus", 2, "m0 m1"}, // the rare word is only in bob's mail                   // common in bob's mail, in none of ana's newest
	} {
		hits, err := s.Search(ctx, u, c.q, c.limit)
		var got []string
		for _, h := range hits {
			got = append(got, h.Subject)
		}
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("Search %q limit %d = %v, %v; want %s", c.q, c.limit, got, err, c.want)
		}
	}
}

func TestSeqRanges(t *testing.T) {
	seqs := []int64{101, 3, 1, 1000, 2, 100}
	for n, want := range map[int]string{
		1: "[[1 1000]]",
		2: "[[1 101] [1000 1000]]",
		3: "[[1 3] [100 101] [1000 1000]]",
		8: "[[1 1] [2 2] [3 3] [100 100] [101 101] [1000 1000]]",
	} {
		if got := fmt.Sprint(sqlitemail.SeqRanges(seqs, n)); got != want {
			t.Errorf("seqRanges(%v, %d) = %s, want %s", seqs, n, got, want)
		}
	}
}
