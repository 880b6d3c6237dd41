package sqldb_test

import (
	"testing"

	"github.com/os1ai/os1/internal/store/sqldb"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM t WHERE a = ? AND b = ?`, `SELECT * FROM t WHERE a = $1 AND b = $2`},
		{`SELECT $1, $2`, `SELECT $1, $2`},
		{`SELECT '?' || ?`, `SELECT '?' || $1`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`SELECT "odd?col" FROM t WHERE x = ?`, `SELECT "odd?col" FROM t WHERE x = $1`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"SELECT ? /* a ? b */ + ?", "SELECT $1 /* a ? b */ + $2"},
		{`INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)`, `INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`},
		{`UPDATE c SET u = CASE WHEN u < ?1 THEN ?1 ELSE u END, h = ?4 WHERE id = ?2 AND o = ?3`,
			`UPDATE c SET u = CASE WHEN u < $1 THEN $1 ELSE u END, h = $4 WHERE id = $2 AND o = $3`},
		{`SELECT 'unterminated ?`, `SELECT 'unterminated ?`},
		{"SELECT ? -- no newline ?", "SELECT $1 -- no newline ?"},
	} {
		if got := sqldb.Rebind(c.in); got != c.want {
			t.Errorf("Rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzRebind(f *testing.F) {
	f.Add(`SELECT 'a?' , ? , "b?" -- c?` + "\n" + `/* ? */ ?`)
	f.Fuzz(func(t *testing.T, q string) {
		got := sqldb.Rebind(q)
		if len(got) < len(q) {
			t.Fatalf("Rebind shortened %q to %q", q, got)
		}
	})
}
