package recall

import (
	"context"

	"github.com/os1ai/os1/internal/memory"
)

// vectorResult is the vector side of a retrieval run in its own goroutine.
type vectorResult struct {
	hits     []memory.Hit
	err      error
	panicked any // a panic of the search, raised again on the caller's goroutine
}

// rethrow raises the search's panic where the caller (and its recover,
// companion's safely) can see it, as if the search had run there.
func (v vectorResult) rethrow() {
	if v.panicked != nil {
		panic(v.panicked)
	}
}

// searchVectorAsync runs searchVector in the background; the channel
// delivers its one result.
func (r *Recaller) searchVectorAsync(ctx context.Context, userID, text string, q memory.Query) <-chan vectorResult {
	out := make(chan vectorResult, 1)
	go func() {
		var v vectorResult
		defer func() {
			v.panicked = recover()
			out <- v
		}()
		v.hits, v.err = r.searchVector(ctx, userID, text, q)
	}()
	return out
}
