package sqlstore

// Prepared is how many statements d keeps prepared.
func Prepared(d *Store) int {
	d.stmts.mu.Lock()
	defer d.stmts.mu.Unlock()
	return len(d.stmts.m)
}

// MaxStmts is the bound on them.
const MaxStmts = maxStmts
