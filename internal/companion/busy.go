package companion

// Busy reports whether a turn is running for anyone. Background model work
// (memory extraction, journals) waits while it is, so a small model server
// with one slot answers the user first.
func (c *Companion) Busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.inFlight) > 0
}
