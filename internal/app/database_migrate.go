package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// MigrateProgress is how far a copy into PostgreSQL has come.
type MigrateProgress struct {
	Table      string // the table being copied; "" once verifying
	Rows, Of   int64  // rows of Table copied, and its total
	Done, All  int64  // rows of every table copied, and their total
	Tables     int    // tables finished
	TablesOf   int    // tables in all
	Verifying  bool   // copying is over; counts and checksums are being compared
	TableEnded bool   // Table has just been copied whole
}

// MigrateTable is one table's result: its rows and checksums on each side.
type MigrateTable struct {
	Name                 string
	SQLiteRows, PGRows   int64
	SQLiteSum, PGSum     string // hex SHA-256 of the rows in primary-key order, values normalised
	Match                bool
	SequencesAdvancedFor []string // identity columns set past the copied values
}

// MigrateReport is what MigrateToPostgres did.
type MigrateReport struct {
	Source  string // the SQLite file
	Target  string // the PostgreSQL URL without its password
	Tables  []MigrateTable
	Skipped []string // SQLite tables not copied: full-text indexes, goose's versions
	Rows    int64
	Took    time.Duration
}

// MigrateOptions tune MigrateToPostgres.
type MigrateOptions struct {
	// Progress is called as rows are copied (after each batch) and when
	// verifying starts; nil: not told.
	Progress func(MigrateProgress)
	// Batch is the rows per INSERT (default 500, fewer for wide tables).
	Batch int
}

// NotEmptyError refuses a target that already holds data.
type NotEmptyError struct {
	Target  string
	Tables  []string // tables holding rows
	Foreign bool     // Tables are another program's (empty or not): os1 made none of them
}

func (e *NotEmptyError) Error() string {
	if e.Foreign {
		return fmt.Sprintf("%s is not empty: it holds tables os1 did not make (%s). os1 migrate copies into an empty database only; create a new one (createdb)",
			e.Target, strings.Join(e.Tables, ", "))
	}
	return fmt.Sprintf("%s is not empty: %s hold rows. os1 migrate copies into an empty database only; create a new one (createdb) or drop these tables' data first",
		e.Target, strings.Join(e.Tables, ", "))
}

// MismatchError is a copy whose verification failed.
type MismatchError struct{ Tables []MigrateTable }

func (e *MismatchError) Error() string {
	var b strings.Builder
	b.WriteString("verification failed, the copy differs from the SQLite data:")
	for _, t := range e.Tables {
		fmt.Fprintf(&b, "\n  %s: SQLite %d rows (checksum %s), PostgreSQL %d rows (checksum %s)", t.Name, t.SQLiteRows, short(t.SQLiteSum), t.PGRows, short(t.PGSum))
	}
	return b.String()
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// MigrateToPostgres copies the SQLite database of cfg's data dir into the
// empty PostgreSQL database at pgURL: it migrates PostgreSQL's schema,
// refuses a database that holds any row, checks that every SQLite table
// and column has a PostgreSQL counterpart (a *MissingError names what
// lacks one: nothing is dropped silently), copies the tables in
// foreign-key order in one transaction, sets identity sequences past the
// copied values, and compares row counts and checksums of every table (a
// *MismatchError lists those that differ). The caller must hold the data
// dir so that no os1 writes to the SQLite file meanwhile.
func MigrateToPostgres(ctx context.Context, cfg config.Config, pgURL string, o MigrateOptions) (*MigrateReport, error) {
	start := time.Now()
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Progress == nil {
		o.Progress = func(MigrateProgress) {}
	}
	rep := &MigrateReport{Source: cfg.DBPath(), Target: config.RedactURL(pgURL)}
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		return nil, &NoDatabaseError{Path: cfg.DBPath()}
	}
	src, err := sqlite.Open(ctx, cfg.DBPath())
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// Look before os1's migrations make their tables: a database that
	// holds anything else is refused untouched.
	if err := refuseForeign(ctx, pgURL, rep.Target); err != nil {
		return nil, err
	}
	dst, err := postgres.Open(ctx, pgURL)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	pg := dst.SQL()

	pgs, err := postgresSchema(ctx, pg)
	if err != nil {
		return nil, err
	}
	if err := refuseNonEmpty(ctx, pg, pgs, rep.Target); err != nil {
		return nil, err
	}
	// A read transaction: one snapshot of the file from first table to last.
	stx, err := src.SQL().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rep.Source, err)
	}
	defer stx.Rollback() //nolint:errcheck // read-only
	tables, err := sqliteTables(ctx, src.SQL())
	if err != nil {
		return nil, err
	}
	rep.Skipped, err = skippedTables(ctx, src.SQL(), tables)
	if err != nil {
		return nil, err
	}
	have := map[string]map[string]bool{}
	for t, cols := range pgs {
		have[t] = map[string]bool{}
		for c := range cols {
			have[t][c] = true
		}
	}
	if err := compareSchemas(tables, have); err != nil {
		return nil, err
	}
	if tables, err = fkOrder(tables); err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	var all int64
	for _, t := range tables {
		var n int64
		if err := stx.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(t.name)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.name, err)
		}
		counts[t.name], all = n, all+n
	}

	ptx, err := pg.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", rep.Target, err)
	}
	defer ptx.Rollback() //nolint:errcheck // after Commit, a no-op
	p := MigrateProgress{All: all, TablesOf: len(tables)}
	for _, t := range tables {
		p.Table, p.Rows, p.Of, p.TableEnded = t.name, 0, counts[t.name], false
		o.Progress(p)
		if err := copyTable(ctx, stx, ptx, t, pgs[t.name], o.Batch, func(n int64) {
			p.Rows += n
			p.Done += n
			o.Progress(p)
		}); err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		p.Tables++
		p.TableEnded = true
		o.Progress(p)
	}
	seqs, err := advanceSequences(ctx, ptx, pgs)
	if err != nil {
		return nil, err
	}
	if err := ptx.Commit(); err != nil {
		return nil, fmt.Errorf("commit the copy into %s: %w", rep.Target, err)
	}

	o.Progress(MigrateProgress{Verifying: true, Done: all, All: all, Tables: len(tables), TablesOf: len(tables)})
	var bad []MigrateTable
	for _, t := range tables {
		r := MigrateTable{Name: t.name, SequencesAdvancedFor: seqs[t.name]}
		if r.SQLiteRows, r.SQLiteSum, err = checksum(ctx, stx, t, nil); err != nil {
			return nil, fmt.Errorf("verify %s on SQLite: %w", t.name, err)
		}
		if r.PGRows, r.PGSum, err = checksum(ctx, pg, t, pgs[t.name]); err != nil {
			return nil, fmt.Errorf("verify %s on PostgreSQL: %w", t.name, err)
		}
		r.Match = r.SQLiteRows == r.PGRows && r.SQLiteSum == r.PGSum
		if !r.Match {
			bad = append(bad, r)
		}
		rep.Rows += r.PGRows
		rep.Tables = append(rep.Tables, r)
	}
	rep.Took = time.Since(start)
	if len(bad) > 0 {
		return rep, &MismatchError{Tables: bad}
	}
	return rep, nil
}

// refuseNonEmpty fails when any table of the target holds a row (goose's
// version table aside, which os1's own migrations just filled).
func refuseNonEmpty(ctx context.Context, pg *sql.DB, s map[string]map[string]pgColumn, target string) error {
	var full []string
	for t := range s {
		if t == "goose_db_version" {
			continue
		}
		var any bool
		if err := pg.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+quote(t)+`)`).Scan(&any); err != nil {
			return fmt.Errorf("look into %s: %w", t, err)
		}
		if any {
			full = append(full, t)
		}
	}
	if len(full) > 0 {
		sort.Strings(full)
		return &NotEmptyError{Target: target, Tables: full}
	}
	return nil
}

// refuseForeign fails when the database at pgURL holds tables but not
// os1's schema (no goose version table), or any row: os1 migrate never
// adds its tables to another program's database.
func refuseForeign(ctx context.Context, pgURL, target string) error {
	db, err := sqldb.OpenPostgres(pgURL)
	if err != nil {
		return fmt.Errorf("open database %s: %w", target, err)
	}
	defer db.Close()
	s, err := postgresSchema(ctx, db)
	if err != nil {
		return fmt.Errorf("open database %s: %w", target, err)
	}
	if err := refuseNonEmpty(ctx, db, s, target); err != nil {
		return err
	}
	if _, ours := s["goose_db_version"]; len(s) > 0 && !ours {
		var names []string
		for t := range s {
			names = append(names, t)
		}
		sort.Strings(names)
		return &NotEmptyError{Target: target, Tables: names, Foreign: true}
	}
	return nil
}

// skippedTables are the SQLite tables the copy leaves out, for the report.
func skippedTables(ctx context.Context, db *sql.DB, copied []table) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	in := map[string]bool{}
	for _, t := range copied {
		in[t.name] = true
	}
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !in[n] {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// copyTable copies t's rows in rowid order (the order SQLite's stores
// read them in, which PostgreSQL's keep in their own seq columns), batch
// rows per INSERT.
func copyTable(ctx context.Context, src querier, dst *sql.Tx, t table, pgCols map[string]pgColumn, batch int, done func(int64)) error {
	order := "rowid"
	if !t.rowid {
		order = orderBy(t, nil)
	}
	rows, err := src.QueryContext(ctx, `SELECT `+quoteAll(t.cols)+` FROM `+quote(t.name)+` ORDER BY `+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	if most := 60000 / len(t.cols); batch > most {
		batch = most
	}
	override := ""
	for _, c := range t.cols {
		if pgCols[c].identity {
			override = " OVERRIDING SYSTEM VALUE"
		}
	}
	head := `INSERT INTO ` + quote(t.name) + ` (` + quoteAll(t.cols) + `)` + override + ` VALUES `
	var args []any
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(head)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range t.cols {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(i*len(t.cols) + j + 1))
			}
			b.WriteByte(')')
		}
		if _, err := dst.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		done(int64(n))
		args, n = args[:0], 0
		return nil
	}
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, c := range t.cols {
			v, err := toPostgres(vals[i], pgCols[c].typ)
			if err != nil {
				return fmt.Errorf("row %d, column %s: %w", n+1, c, err)
			}
			if s, ok := v.(string); ok && escapedOnPostgres[t.name][c] {
				v = nulEscaper.Replace(s)
			}
			args = append(args, v)
		}
		if n++; n == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return flush()
}

// escapedOnPostgres are the columns whose text a store keeps escaped on
// PostgreSQL, whose text holds no NUL: mail's free text (sqlitemail's
// textCodec writes \x01 as \x01\x01 and NUL as \x01\x02 there). The copy
// escapes them as the store would, and the checksum reads them back.
var escapedOnPostgres = map[string]map[string]bool{
	"mail_messages": set("message_id", "in_reply_to", "from_name", "from_email", "subject", "text", "list_id",
		"list_unsubscribe", "list_unsubscribe_post", "auth_results", "precedence", "reason", "summary", "triage_by"),
	"mail_accounts": set("name", "last_error"),
	"mail_rules":    set("text"),
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	nulEscaper   = strings.NewReplacer("\x01", "\x01\x01", "\x00", "\x01\x02")
	nulUnescaper = strings.NewReplacer("\x01\x01", "\x01", "\x01\x02", "\x00")
)

// toPostgres converts a value read from SQLite (whose columns take any
// type) to the PostgreSQL column's type.
func toPostgres(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "text", "character varying":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case time.Time:
			return x.UTC().Format(time.RFC3339Nano), nil
		}
		return norm(v), nil
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
		return []byte(norm(v)), nil
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) {
				return int64(x), nil
			}
		case string:
			return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
		return nil, fmt.Errorf("%v (%T) is not a whole number", v, v)
	case "double precision", "real", "numeric":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			return strconv.ParseFloat(strings.TrimSpace(x), 64)
		}
		return nil, fmt.Errorf("%v (%T) is not a number", v, v)
	}
	return v, nil
}

// norm is a value as text, the same for the same value on either side:
// INTEGER 5 and TEXT '5', a BLOB and the TEXT of its bytes, are equal.
func norm(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// orderBy orders t's rows by its primary key (all its columns when it has
// none). pgCols non-nil: on PostgreSQL, whose text columns sort by byte
// value (COLLATE "C") as SQLite's do, not by the database's locale.
func orderBy(t table, pgCols map[string]pgColumn) string {
	keys := t.pk
	if len(keys) == 0 {
		keys = t.cols
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = quote(k)
		if pgCols != nil && (pgCols[k].typ == "text" || pgCols[k].typ == "character varying") {
			parts[i] += ` COLLATE "C"`
		}
	}
	return strings.Join(parts, ", ")
}

// checksum counts t's rows and hashes them in primary-key order, each
// value normalised (norm) and length-prefixed, NULL apart from the empty string.
func checksum(ctx context.Context, db querier, t table, pgCols map[string]pgColumn) (int64, string, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+quoteAll(t.cols)+` FROM `+quote(t.name)+` ORDER BY `+orderBy(t, pgCols))
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	h := sha256.New()
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	var buf bytes.Buffer
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, "", err
		}
		buf.Reset()
		for i, v := range vals {
			if v == nil {
				buf.WriteByte(0)
				continue
			}
			s := norm(v)
			if pgCols != nil && escapedOnPostgres[t.name][t.cols[i]] {
				s = nulUnescaper.Replace(s)
			}
			buf.WriteByte(1)
			_ = binary.Write(&buf, binary.BigEndian, uint64(len(s)))
			buf.WriteString(s)
		}
		h.Write(buf.Bytes())
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// advanceSequences sets every identity column's sequence past the largest
// value in its table, so the next row os1 adds takes a new number.
func advanceSequences(ctx context.Context, tx *sql.Tx, s map[string]map[string]pgColumn) (map[string][]string, error) {
	out := map[string][]string{}
	for t, cols := range s {
		for c, col := range cols {
			if !col.identity {
				continue
			}
			var seq sql.NullString
			if err := tx.QueryRowContext(ctx, `SELECT pg_get_serial_sequence($1, $2)`, quote(t), c).Scan(&seq); err != nil {
				return nil, fmt.Errorf("sequence of %s.%s: %w", t, c, err)
			}
			if !seq.Valid {
				continue
			}
			if _, err := tx.ExecContext(ctx, `SELECT setval($1::regclass, COALESCE((SELECT max(`+quote(c)+`) FROM `+quote(t)+`), 0) + 1, false)`, seq.String); err != nil {
				return nil, fmt.Errorf("advance the sequence of %s.%s: %w", t, c, err)
			}
			out[t] = append(out[t], c)
		}
	}
	return out, nil
}
