package memory

import (
	"strings"
	"sync"
)

// echoesPerUser bounds what Echoes keeps: a few turns' worth of slots and
// tool results, which is as far back as a model plausibly repeats them.
const echoesPerUser = 64

// Echoes remembers, per user, the memory text recently shown to the model
// (recall's prompt slot and tool), so that extraction does not store it a
// second time when the companion repeats it back. It is in memory only:
// after a restart nothing has been shown yet. Safe for concurrent use.
type Echoes struct {
	mu     sync.Mutex
	byUser map[string][]string // oldest first
}

// NewEchoes returns an empty record.
func NewEchoes() *Echoes { return &Echoes{byUser: map[string][]string{}} }

// Remember records text shown to the model on userID's behalf.
func (e *Echoes) Remember(userID, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.byUser[userID]
	for i, t := range l {
		if t == text { // move to the newest end
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	l = append(l, text)
	if len(l) > echoesPerUser {
		l = l[len(l)-echoesPerUser:]
	}
	e.byUser[userID] = l
}

// Recent returns the texts shown for userID, oldest first.
func (e *Echoes) Recent(userID string) []string {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.byUser[userID]...)
}
