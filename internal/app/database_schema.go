package app

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// table is one of os1's SQLite tables as the copier sees it.
type table struct {
	name  string
	cols  []string // stored columns in declared order (generated ones left out: they are computed)
	pk    []string // primary key columns in key order; empty: none declared
	rowid bool     // a rowid table (rows are read in rowid order, the order SQLite's stores rely on)
	refs  []string // tables its foreign keys point at
}

// ftsShadows are the suffixes of the tables an FTS5 virtual table keeps its
// index in.
var ftsShadows = []string{"_data", "_idx", "_content", "_docsize", "_config"}

// sqliteTables lists os1's tables in db: every table but SQLite's own,
// goose's version table, and full-text virtual tables with their shadow
// tables (PostgreSQL indexes its own full text, docs/scale.md).
func sqliteTables(ctx context.Context, db *sql.DB) ([]table, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list SQLite tables: %w", err)
	}
	type raw struct{ name, sql string }
	var all []raw
	virtual := map[string]bool{}
	for rows.Next() {
		var r raw
		if err := rows.Scan(&r.name, &r.sql); err != nil {
			rows.Close()
			return nil, err
		}
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(r.sql)), "CREATE VIRTUAL TABLE") {
			virtual[r.name] = true
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	shadow := func(name string) bool {
		for v := range virtual {
			for _, s := range ftsShadows {
				if name == v+s {
					return true
				}
			}
		}
		return false
	}
	var out []table
	for _, r := range all {
		if strings.HasPrefix(r.name, "sqlite_") || r.name == "goose_db_version" || virtual[r.name] || shadow(r.name) {
			continue
		}
		t := table{name: r.name, rowid: !strings.Contains(strings.ToUpper(r.sql), "WITHOUT ROWID")}
		// table_info leaves generated columns out.
		cols, err := db.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, r.name)
		if err != nil {
			return nil, fmt.Errorf("columns of %s: %w", r.name, err)
		}
		pk := map[int]string{}
		for cols.Next() {
			var name string
			var n int
			if err := cols.Scan(&name, &n); err != nil {
				cols.Close()
				return nil, err
			}
			t.cols = append(t.cols, name)
			if n > 0 {
				pk[n] = name
			}
		}
		cols.Close()
		if err := cols.Err(); err != nil {
			return nil, err
		}
		for i := 1; i <= len(pk); i++ {
			t.pk = append(t.pk, pk[i])
		}
		fks, err := db.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, r.name)
		if err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", r.name, err)
		}
		for fks.Next() {
			var ref string
			if err := fks.Scan(&ref); err != nil {
				fks.Close()
				return nil, err
			}
			if ref != r.name && !slices.Contains(t.refs, ref) {
				t.refs = append(t.refs, ref)
			}
		}
		fks.Close()
		if err := fks.Err(); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// pgColumn is a column of a PostgreSQL table.
type pgColumn struct {
	typ      string // information_schema data_type: text, bigint, bytea, double precision, …
	identity bool   // an identity column (or one filled by a sequence)
}

// postgresSchema is every table of the connection's schema and its
// columns. Generated columns (a tsvector) are left out: nothing copies
// into them.
func postgresSchema(ctx context.Context, pg *sql.DB) (map[string]map[string]pgColumn, error) {
	rows, err := pg.QueryContext(ctx, `
		SELECT c.table_name, c.column_name, c.data_type,
		       c.is_identity = 'YES' OR COALESCE(c.column_default, '') LIKE 'nextval(%', c.is_generated = 'ALWAYS'
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`)
	if err != nil {
		return nil, fmt.Errorf("list PostgreSQL tables: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]pgColumn{}
	for rows.Next() {
		var tbl, col, typ string
		var ident, generated bool
		if err := rows.Scan(&tbl, &col, &typ, &ident, &generated); err != nil {
			return nil, err
		}
		if out[tbl] == nil {
			out[tbl] = map[string]pgColumn{}
		}
		if !generated {
			out[tbl][col] = pgColumn{typ: typ, identity: ident}
		}
	}
	return out, rows.Err()
}

// postgresColumns is postgresSchema as sets of column names.
func postgresColumns(ctx context.Context, pg *sql.DB) (map[string]map[string]bool, error) {
	s, err := postgresSchema(ctx, pg)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]bool, len(s))
	for t, cols := range s {
		out[t] = make(map[string]bool, len(cols))
		for c := range cols {
			out[t][c] = true
		}
	}
	return out, nil
}

// fkOrder sorts tables so that every table comes after the tables its
// foreign keys point at (a self-reference is left to row order). A cycle
// is an error naming its tables: no order could copy them.
func fkOrder(ts []table) ([]table, error) {
	byName := map[string]table{}
	for _, t := range ts {
		byName[t.name] = t
	}
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		names = append(names, t.name)
	}
	sort.Strings(names)
	var out []table
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("foreign keys form a cycle: %s", strings.Join(append(path, name), " → "))
		}
		t, ok := byName[name]
		if !ok {
			return nil // a reference to a skipped table
		}
		state[name] = 1
		refs := slices.Clone(t.refs)
		sort.Strings(refs)
		for _, r := range refs {
			if err := visit(r, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, t)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// quote is an SQL identifier, quoted the same on both databases.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
