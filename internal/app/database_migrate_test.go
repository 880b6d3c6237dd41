package app_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/store/sqltime"
)

// A data dir with people, conversations and memories, and rows in every
// other table, copied into PostgreSQL: every table is copied whole (counts
// and checksums match), identity sequences continue past the copied rows,
// and PostgreSQL's core store reads the same users and messages.
func TestMigrateCopiesEveryTableAndVerifiesIt(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteDataDir(t)
	tables := fillEveryTable(t, cfg)

	url := pgtest.New(t)
	var progress []app.MigrateProgress
	rep, err := app.MigrateToPostgres(ctx, cfg, withPassword(url), app.MigrateOptions{Batch: 2,
		Progress: func(p app.MigrateProgress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rep.Target, testPassword) || !strings.Contains(rep.Target, "xxxxx@") {
		t.Fatalf("the report's target shows the password or no redaction: %s", rep.Target)
	}
	var copied []string
	for _, r := range rep.Tables {
		copied = append(copied, r.Name)
		if !r.Match || r.SQLiteRows != r.PGRows || r.SQLiteSum != r.PGSum || r.PGRows == 0 {
			t.Errorf("%s: %+v", r.Name, r)
		}
	}
	sort.Strings(copied)
	if !slices.Equal(copied, tables) {
		t.Fatalf("copied tables\n%v\nwant every os1 table of the SQLite file\n%v", copied, tables)
	}
	for _, skip := range []string{"memory_fts", "memory_fts_data", "goose_db_version"} {
		if !slices.Contains(rep.Skipped, skip) {
			t.Errorf("%s not reported as skipped: %v", skip, rep.Skipped)
		}
	}
	// The progress reached the end, batch by batch.
	last := progress[len(progress)-1]
	if !last.Verifying || last.Done != rep.Rows || last.Tables != len(tables) || len(progress) < 2*len(tables) {
		t.Fatalf("progress ended at %+v after %d reports (rows %d)", last, len(progress), rep.Rows)
	}

	// PostgreSQL's core store sees what SQLite's holds.
	src, err := sqlite.Open(ctx, cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for _, db := range []store.Store{src, dst} {
		users, err := db.ListUsers(ctx)
		if err != nil || len(users) == 0 {
			t.Fatalf("users: %v %v", users, err)
		}
	}
	wantUsers, _ := src.ListUsers(ctx)
	gotUsers, _ := dst.ListUsers(ctx)
	if fmt.Sprint(wantUsers) != fmt.Sprint(gotUsers) {
		t.Fatalf("users on PostgreSQL\n%v\nwant\n%v", gotUsers, wantUsers)
	}
	convs, err := src.ListConversations(ctx, "usr_theo")
	if err != nil || len(convs) == 0 {
		t.Fatalf("conversations: %v %v", convs, err)
	}
	want, _ := src.Messages(ctx, "usr_theo", convs[0].ID)
	got, err := dst.Messages(ctx, "usr_theo", convs[0].ID)
	if err != nil || len(want) < 2 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("messages on PostgreSQL (%v)\n%v\nwant\n%v", err, got, want)
	}
	// Mail's text with a NUL reads back whole through the mail store on PostgreSQL.
	var mailID, mailUser string
	if err := src.SQL().QueryRowContext(ctx, `SELECT id, user_id FROM mail_messages WHERE text = ?`, mailText).Scan(&mailID, &mailUser); err != nil {
		t.Fatal(err)
	}
	if msg, err := sqlitemail.New(dst).Message(ctx, mailUser, mailID); err != nil || msg.Text != mailText {
		t.Fatalf("mail text on PostgreSQL: %q %v, want %q", msg.Text, err, mailText)
	}
	// A message added after the copy gets a seq past the copied ones.
	m := want[len(want)-1]
	m.ID, m.ParentID, m.Content = "msg_after", m.ID, "after the move"
	if err := dst.AppendMessage(ctx, m); err != nil {
		t.Fatalf("appending after the copy: %v", err)
	}
	if got, _ := dst.Messages(ctx, "usr_theo", convs[0].ID); got[len(got)-1].ID != "msg_after" {
		t.Fatalf("the new message is not last: %v", got)
	}
}

// A database that holds rows is refused, and nothing is written to it.
func TestMigrateRefusesANonEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteDataDir(t)
	url := pgtest.New(t)
	pg, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.SetSetting(ctx, "someone", "was here"); err != nil {
		t.Fatal(err)
	}
	_, err = app.MigrateToPostgres(ctx, cfg, url, app.MigrateOptions{})
	var full *app.NotEmptyError
	if !errors.As(err, &full) || !slices.Contains(full.Tables, "settings") || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("migrate into a database with a setting: %v", err)
	}
	if n, _ := pg.CountUsers(ctx); n != 0 {
		t.Fatalf("the refused migration wrote %d users", n)
	}
}

// A SQLite table without a PostgreSQL counterpart stops the copy before
// anything is written, naming the table and column: nothing is dropped.
func TestMigrateNamesATableOrColumnPostgresLacks(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteDataDir(t)
	db, err := sqlite.Open(ctx, cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE plants (id TEXT PRIMARY KEY, name TEXT)`, `INSERT INTO plants VALUES ('p1', 'fern')`,
		`ALTER TABLE settings ADD COLUMN colour TEXT`} {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	url := pgtest.New(t)
	_, err = app.MigrateToPostgres(ctx, cfg, url, app.MigrateOptions{})
	var missing *app.MissingError
	if !errors.As(err, &missing) || !slices.Contains(missing.Tables, "plants") || !slices.Contains(missing.Columns, "settings.colour") {
		t.Fatalf("migrate with a table and a column PostgreSQL lacks: %v", err)
	}
	pg, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if n, _ := pg.CountUsers(ctx); n != 0 {
		t.Fatalf("the refused migration wrote %d users", n)
	}
}

// sqliteDataDir is a data dir on SQLite where Theo talked with her once:
// an account, a session, a token, a conversation of two messages, a
// memory, and the memory worker's index of the conversation.
func sqliteDataDir(t *testing.T) config.Config {
	t.Helper()
	ctx := context.Background()
	srv := llmtest.NewServer(t)
	srv.Handle(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"Hello, Theo."}} })
	cfg := testConfigWith(t, "OS1_LLM_URL", srv.OpenAIBaseURL(), "OS1_LLM_MODEL", "m")
	a, err := app.New(ctx, cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u := store.User{ID: "usr_theo", Username: "theo", DisplayName: "Théodore", Role: store.RoleOwner, PasswordHash: "$argon2id$x", CreatedAt: now}
	must(t, a.DB.CreateUser(ctx, u))
	must(t, a.DB.CreateUser(ctx, store.User{ID: "usr_ana", Username: "ana", DisplayName: "Ana", Role: store.RoleMember, PasswordHash: "$argon2id$y", CreatedAt: now}))
	must(t, a.DB.SavePersona(ctx, store.Persona{UserID: u.ID, Name: "Samantha", NamedAt: now, UpdatedAt: now}))
	must(t, a.DB.SaveProfile(ctx, store.Profile{UserID: u.ID, Timezone: "Europe/Berlin", OnboardedAt: now, UpdatedAt: now}))
	must(t, a.DB.CreateSession(ctx, store.Session{TokenHash: "h1", UserID: u.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(t, a.DB.CreateAPIToken(ctx, store.APIToken{ID: "tok_1", UserID: u.ID, Name: "cli", TokenHash: "th", CreatedAt: now}))
	must(t, a.MemStore.AddItem(ctx, memory.Item{ID: "mem_1", UserID: u.ID, Kind: memory.KindFact, Text: "Theo grows tomatoes 🍅",
		Sources: []string{"msg_0"}, Confidence: 0.9, Importance: 0.5, ValidFrom: now, CreatedAt: now}, nil))
	events, err := a.Companion.Send(ctx, u.ID, "", "How are my tomatoes?")
	must(t, err)
	for range events {
	}
	must(t, a.Memory.Flush(ctx))
	return cfg
}

// fillEveryTable adds rows to every os1 table of the data dir's SQLite
// file that the flows above left empty (mail, calendar, reminders, …):
// made-up values of each column's type, foreign keys pointing at existing
// rows. It returns the tables os1 keeps (no full-text index, no goose).
func fillEveryTable(t *testing.T, cfg config.Config) []string {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := db.SQL()
	names := rows[string](t, q, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		AND name <> 'goose_db_version' AND name NOT LIKE '%fts%' ORDER BY name`)
	// Parents first: a table is filled once the tables it points at have rows.
	var pending = slices.Clone(names)
	for round := 0; len(pending) > 0; round++ {
		if round > len(names) {
			t.Fatalf("cannot fill %v", pending)
		}
		var next []string
		for _, name := range pending {
			refs := rows[string](t, q, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, name)
			ready := true
			for _, r := range refs {
				if r != name && count(t, q, r) == 0 {
					ready = false
				}
			}
			if !ready {
				next = append(next, name)
				continue
			}
			if count(t, q, name) == 0 {
				fillTable(t, q, name)
			}
		}
		pending = next
	}
	// Mail's made-up message must read back through the mail store: JSON
	// lists and times in its columns.
	if _, err := q.ExecContext(ctx, `UPDATE mail_messages SET refs = '[]', to_addrs = '[]', cc_addrs = '[]', reply_to = 'null',
		parts = '[]', flags = '[]', date = ?, triaged_at = ? WHERE text = ?`, sqltime.Value(time.Now()), sqltime.Value(time.Time{}), mailText); err != nil {
		t.Fatal(err)
	}
	return names
}

// fillTable inserts three made-up rows into name (at least one must go in).
func fillTable(t *testing.T, q *sql.DB, name string) {
	t.Helper()
	type col struct {
		name, typ string
		notNull   bool
		pk        int
	}
	var cols []col
	r, err := q.Query(`SELECT name, upper(type), "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var c col
		if err := r.Scan(&c.name, &c.typ, &c.notNull, &c.pk); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	r.Close()
	fks := map[string][2]string{} // column → referenced table, column
	r, err = q.Query(`SELECT "from", "table", COALESCE("to", '') FROM pragma_foreign_key_list(?)`, name)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var from, tbl, to string
		if err := r.Scan(&from, &tbl, &to); err != nil {
			t.Fatal(err)
		}
		if to == "" {
			to = "rowid"
		}
		fks[from] = [2]string{tbl, to}
	}
	r.Close()
	inserted := 0
	for i := range 3 {
		var names, marks []string
		var args []any
		for _, c := range cols {
			var v any
			switch {
			case fks[c.name][0] != "":
				ref := fks[c.name]
				n := count(t, q, ref[0])
				if err := q.QueryRow(fmt.Sprintf(`SELECT %q FROM %q ORDER BY rowid LIMIT 1 OFFSET %d`, ref[1], ref[0], i%n)).Scan(&v); err != nil {
					t.Fatalf("%s.%s → %s: %v", name, c.name, ref, err)
				}
			case name == "mail_messages" && c.name == "text":
				v = mailText // mail keeps a NUL on PostgreSQL escaped
			case name == "book_files" && c.name == "format":
				v = []string{"epub", "pdf", "epub"}[i]
			case strings.Contains(c.typ, "INT"):
				v = int64(i + 1)
			case strings.Contains(c.typ, "REAL"):
				v = 0.25 + float64(i)
			case strings.Contains(c.typ, "BLOB"):
				v = []byte{0, byte(i), 0xff, '\''}
			case i == 1 && !c.notNull && c.pk == 0:
				v = nil // NULLs travel too
			default:
				v = fmt.Sprintf("%s-%s-%d ünï", name, c.name, i)
			}
			names = append(names, fmt.Sprintf("%q", c.name))
			marks = append(marks, "?")
			args = append(args, v)
		}
		_, err := q.Exec(fmt.Sprintf(`INSERT INTO %q (%s) VALUES (%s)`, name, strings.Join(names, ", "), strings.Join(marks, ", ")), args...)
		if err == nil {
			inserted++
		}
	}
	if inserted == 0 {
		t.Fatalf("no made-up row fits %s", name)
	}
}

// mailText is the text of the made-up mail: a NUL and the mail store's
// escape bytes, which PostgreSQL's mail store keeps escaped.
const mailText = "a NUL \x00 here, \x01\x02 and \x01\x01 there, \x01 alone"

func count(t *testing.T, q *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := q.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %q`, table)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func rows[T any](t *testing.T, q *sql.DB, query string, args ...any) []T {
	t.Helper()
	r, err := q.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []T
	for r.Next() {
		var v T
		if err := r.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// A copy that differs from the SQLite data fails loudly, naming the table:
// here PostgreSQL changes every setting's value as it is written.
func TestMigrateFailsOnAChecksumMismatch(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteDataDir(t)
	fillEveryTable(t, cfg)
	url := pgtest.New(t)
	pg, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, q := range []string{
		`CREATE FUNCTION tamper() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.value := NEW.value || '!'; RETURN NEW; END $$`,
		`CREATE TRIGGER tamper BEFORE INSERT ON settings FOR EACH ROW EXECUTE FUNCTION tamper()`,
	} {
		if _, err := pg.SQL().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := app.MigrateToPostgres(ctx, cfg, url, app.MigrateOptions{})
	var bad *app.MismatchError
	if !errors.As(err, &bad) || len(bad.Tables) != 1 || bad.Tables[0].Name != "settings" || !strings.Contains(err.Error(), "settings: SQLite") {
		t.Fatalf("migrate with a tampering trigger: %v", err)
	}
	if rep == nil || len(rep.Tables) < 10 {
		t.Fatalf("no report of the tables that were compared: %+v", rep)
	}
}

// Another program's database, even with empty tables, is refused before
// os1 makes any table of its own in it.
func TestMigrateLeavesAnotherProgramsDatabaseAlone(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteDataDir(t)
	url := pgtest.New(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE plants (id text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	_, err = app.MigrateToPostgres(ctx, cfg, url, app.MigrateOptions{})
	var full *app.NotEmptyError
	if !errors.As(err, &full) || !full.Foreign || !slices.Equal(full.Tables, []string{"plants"}) || !strings.Contains(err.Error(), "os1 did not make") {
		t.Fatalf("migrate into another program's database: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the refused migration left %d tables (%v), want plants alone", n, err)
	}
}
