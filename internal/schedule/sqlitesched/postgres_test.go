package sqlitesched_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/schedtest"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openPG(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func pgUser(t *testing.T, db *postgres.DB, name string) string {
	t.Helper()
	id := "usr_" + name
	if err := db.CreateUser(t.Context(), store.User{ID: id, Username: name, DisplayName: name,
		Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return id
}

// The same contract suite as SQLite, on a real PostgreSQL 15.
func TestContractPostgres(t *testing.T) {
	schedtest.Run(t, func(t *testing.T) schedtest.Backend {
		db := openPG(t, pgtest.New(t))
		return schedtest.Backend{
			Store:   sqlitesched.New(db),
			NewUser: func(name string) string { return pgUser(t, db, name) },
			DeleteUser: func(id string) {
				if err := db.DeleteUser(t.Context(), id); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// Two nodes (each its own connection pool) claiming from one PostgreSQL
// at once, due jobs and lapsed leases mixed, never share a job and leave
// none behind.
func TestClaimAcrossNodesPostgres(t *testing.T) {
	url := pgtest.New(t)
	nodes := []*postgres.DB{openPG(t, url), openPG(t, url)}
	ana := pgUser(t, nodes[0], "ana")
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	const n = 400
	first := sqlitesched.New(nodes[0])
	for i := range n {
		j := schedule.Job{ID: fmt.Sprintf("j%03d", i), UserID: ana, Kind: "reminder", Payload: []byte(`{}`),
			Due: t0.Add(time.Duration(i) * time.Millisecond), State: schedule.Pending, CreatedAt: t0}
		if err := first.AddJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	// Half of them were claimed by a node that died: their leases have
	// run out by the time the others claim.
	if js, err := first.Claim(ctx, []string{"reminder"}, t0.Add(time.Second), time.Minute, "dead", n/2); err != nil || len(js) != n/2 {
		t.Fatalf("the dead node's claim: %d, %v", len(js), err)
	}
	now := t0.Add(time.Hour)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 8 {
		s := sqlitesched.New(nodes[w%2])
		tok := fmt.Sprintf("node%d-worker%d", w%2, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				js, err := s.Claim(ctx, []string{"reminder"}, now, time.Minute, tok, 5)
				if err != nil {
					t.Error(err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					if prev, dup := seen[j.ID]; dup {
						t.Errorf("%s claimed by %s and %s", j.ID, prev, tok)
					}
					seen[j.ID] = tok
					if j.Token != tok || j.State != schedule.Running {
						t.Errorf("%s came back as %+v", j.ID, j)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d of %d", len(seen), n)
	}
}
