package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// A credential the database could not check (PostgreSQL restarting, the
// database closed) is a 503 the client retries, never "unknown token" or
// "sign in again", which would make it throw its credential away.
func TestAuthWhileDatabaseDown(t *testing.T) {
	e := newEnv(t, false)
	owner := e.owner()
	tok := owner.want(http.StatusCreated, http.MethodPost, "/api/tokens", map[string]string{"name": "script"})["token"].(string)
	api := e.client()
	api.token = tok
	api.want(http.StatusOK, http.MethodGet, "/api/conversations", nil)
	bogus := e.client()
	bogus.token = "os1_unknown"
	if r := bogus.do(http.MethodGet, "/api/conversations", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("an unknown token: HTTP %d", r.Status)
	}

	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*client{"token": api, "session": owner} {
		r := c.do(http.MethodGet, "/api/conversations", nil)
		if r.Status != http.StatusServiceUnavailable || r.code() != "unavailable" || !strings.Contains(string(r.Body), "database") {
			t.Errorf("%s while the database is down: HTTP %d %s; want 503 unavailable", name, r.Status, r.Body)
		}
	}
}
