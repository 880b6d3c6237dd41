package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
)

var usersTests = map[string]func(*testing.T, *fixture){
	"CreateAndRead": func(t *testing.T, f *fixture) {
		owner := store.User{ID: "u1", Username: "alice", DisplayName: "Alice Ö", Role: store.RoleOwner,
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: at(1)}
		member := store.User{ID: "u2", Username: "bob", Role: store.RoleMember, PasswordHash: "h", CreatedAt: at(2)}
		n, err := f.s.CountUsers(f.ctx)
		must(t, err, "CountUsers")
		if n != 0 {
			t.Fatalf("CountUsers on an empty store = %d, want 0", n)
		}
		must(t, f.s.CreateUser(f.ctx, owner), "CreateUser owner")
		must(t, f.s.CreateUser(f.ctx, member), "CreateUser member")

		got, err := f.s.UserByID(f.ctx, "u1")
		must(t, err, "UserByID")
		same(t, got, owner, "UserByID")
		got, err = f.s.UserByUsername(f.ctx, "bob")
		must(t, err, "UserByUsername")
		same(t, got, member, "UserByUsername")

		n, err = f.s.CountUsers(f.ctx)
		must(t, err, "CountUsers")
		if n != 2 {
			t.Errorf("CountUsers = %d, want 2", n)
		}
		all, err := f.s.ListUsers(f.ctx)
		must(t, err, "ListUsers")
		same(t, all, []store.User{owner, member}, "ListUsers (oldest first)")
	},
	"NotFound": func(t *testing.T, f *fixture) {
		f.user("u1")
		_, err := f.s.UserByID(f.ctx, "nope")
		wantErr(t, err, store.ErrNotFound, "UserByID unknown")
		_, err = f.s.UserByUsername(f.ctx, "nope")
		wantErr(t, err, store.ErrNotFound, "UserByUsername unknown")
		wantErr(t, f.s.SetPasswordHash(f.ctx, "nope", "h"), store.ErrNotFound, "SetPasswordHash unknown")
	},
	"Conflict": func(t *testing.T, f *fixture) {
		u := f.user("u1")
		dupName := store.User{ID: "u2", Username: u.Username, Role: store.RoleMember, CreatedAt: at(1)}
		wantErr(t, f.s.CreateUser(f.ctx, dupName), store.ErrConflict, "CreateUser with a taken username")
		dupID := store.User{ID: u.ID, Username: "other", Role: store.RoleMember, CreatedAt: at(1)}
		wantErr(t, f.s.CreateUser(f.ctx, dupID), store.ErrConflict, "CreateUser with a taken id")
		n, err := f.s.CountUsers(f.ctx)
		must(t, err, "CountUsers")
		if n != 1 {
			t.Errorf("CountUsers after conflicts = %d, want 1", n)
		}
		got, err := f.s.UserByID(f.ctx, u.ID)
		must(t, err, "UserByID")
		same(t, got, u, "user after conflicting creates")
	},
	"Disable": func(t *testing.T, f *fixture) {
		u := f.user("u1")
		other := f.user("u2")
		must(t, f.s.SetUserDisabled(f.ctx, u.ID, at(5)), "SetUserDisabled")
		u.DisabledAt = at(5)
		got, err := f.s.UserByID(f.ctx, u.ID)
		must(t, err, "UserByID")
		same(t, got, u, "user after SetUserDisabled")
		all, err := f.s.ListUsers(f.ctx)
		must(t, err, "ListUsers")
		same(t, all, []store.User{u, other}, "ListUsers with a disabled user")
		must(t, f.s.SetUserDisabled(f.ctx, u.ID, time.Time{}), "SetUserDisabled zero (enable)")
		u.DisabledAt = time.Time{}
		got, err = f.s.UserByUsername(f.ctx, u.Username)
		must(t, err, "UserByUsername")
		same(t, got, u, "user after enabling")
		wantErr(t, f.s.SetUserDisabled(f.ctx, "nope", at(5)), store.ErrNotFound, "SetUserDisabled unknown")
	},
	"SetPasswordHash": func(t *testing.T, f *fixture) {
		u := f.user("u1")
		other := f.user("u2")
		must(t, f.s.SetPasswordHash(f.ctx, u.ID, "new-hash"), "SetPasswordHash")
		got, err := f.s.UserByID(f.ctx, u.ID)
		must(t, err, "UserByID")
		u.PasswordHash = "new-hash"
		same(t, got, u, "user after SetPasswordHash")
		got, err = f.s.UserByID(f.ctx, other.ID)
		must(t, err, "UserByID other")
		same(t, got, other, "other user after SetPasswordHash")
	},
}

var sessionsTests = map[string]func(*testing.T, *fixture){
	"ListTouchDeleteOthers": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.user("u2")
		a := store.Session{TokenHash: "a", UserID: "u1", CSRFToken: "ca", CreatedAt: at(1), ExpiresAt: at(60)}
		b := store.Session{TokenHash: "b", UserID: "u1", CSRFToken: "cb", CreatedAt: at(2), ExpiresAt: at(60)}
		c := store.Session{TokenHash: "c", UserID: "u1", CSRFToken: "cc", CreatedAt: at(3), ExpiresAt: at(60)}
		other := store.Session{TokenHash: "o", UserID: "u2", CreatedAt: at(4), ExpiresAt: at(60)}
		for _, s := range []store.Session{a, b, c, other} {
			must(t, f.s.CreateSession(f.ctx, s), "CreateSession %s", s.TokenHash)
		}
		must(t, f.s.TouchSession(f.ctx, "a", at(10), "Firefox", "192.0.2.1"), "TouchSession")
		a.LastUsedAt, a.UserAgent, a.Address = at(10), "Firefox", "192.0.2.1"
		got, err := f.s.SessionByHash(f.ctx, "a")
		must(t, err, "SessionByHash after touch")
		same(t, got, a, "session after TouchSession")
		wantErr(t, f.s.TouchSession(f.ctx, "gone", at(10), "", ""), store.ErrNotFound, "TouchSession unknown")

		list, err := f.s.ListSessions(f.ctx, "u1")
		must(t, err, "ListSessions")
		same(t, list, []store.Session{a, c, b}, "ListSessions (own only, most recently used or created first)")

		gone, err := f.s.DeleteOtherSessions(f.ctx, "u1", "c")
		must(t, err, "DeleteOtherSessions")
		slices.Sort(gone)
		same(t, gone, []string{"a", "b"}, "hashes DeleteOtherSessions removed")
		list, err = f.s.ListSessions(f.ctx, "u1")
		must(t, err, "ListSessions after DeleteOtherSessions")
		same(t, list, []store.Session{c}, "sessions left after DeleteOtherSessions")
		_, err = f.s.SessionByHash(f.ctx, "o")
		must(t, err, "other user's session after DeleteOtherSessions")
		gone, err = f.s.DeleteOtherSessions(f.ctx, "u1", "")
		must(t, err, "DeleteOtherSessions keeping none")
		same(t, gone, []string{"c"}, "DeleteOtherSessions keeping none")
	},
	"CreateReadDelete": func(t *testing.T, f *fixture) {
		f.user("u1")
		s := store.Session{TokenHash: "h1", UserID: "u1", CSRFToken: "csrf", CreatedAt: at(0), ExpiresAt: at(60)}
		must(t, f.s.CreateSession(f.ctx, s), "CreateSession")
		wantErr(t, f.s.CreateSession(f.ctx, s), store.ErrConflict, "CreateSession twice")
		got, err := f.s.SessionByHash(f.ctx, "h1")
		must(t, err, "SessionByHash")
		same(t, got, s, "SessionByHash")
		_, err = f.s.SessionByHash(f.ctx, "unknown")
		wantErr(t, err, store.ErrNotFound, "SessionByHash unknown")

		must(t, f.s.DeleteSession(f.ctx, "h1"), "DeleteSession")
		_, err = f.s.SessionByHash(f.ctx, "h1")
		wantErr(t, err, store.ErrNotFound, "SessionByHash after DeleteSession")
		must(t, f.s.DeleteSession(f.ctx, "h1"), "DeleteSession of a session already gone")
	},
	"UnknownUser": func(t *testing.T, f *fixture) {
		s := store.Session{TokenHash: "h1", UserID: "ghost", CreatedAt: at(0), ExpiresAt: at(60)}
		wantErr(t, f.s.CreateSession(f.ctx, s), store.ErrNotFound, "CreateSession for an unknown user")
	},
	"DeleteUserSessions": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.user("u2")
		for _, s := range []store.Session{
			{TokenHash: "a1", UserID: "u1", ExpiresAt: at(60)},
			{TokenHash: "a2", UserID: "u1", ExpiresAt: at(60)},
			{TokenHash: "b1", UserID: "u2", ExpiresAt: at(60)},
		} {
			must(t, f.s.CreateSession(f.ctx, s), "CreateSession %s", s.TokenHash)
		}
		must(t, f.s.DeleteUserSessions(f.ctx, "u1"), "DeleteUserSessions")
		for _, h := range []string{"a1", "a2"} {
			_, err := f.s.SessionByHash(f.ctx, h)
			wantErr(t, err, store.ErrNotFound, "session %s after DeleteUserSessions", h)
		}
		_, err := f.s.SessionByHash(f.ctx, "b1")
		must(t, err, "other user's session after DeleteUserSessions")
	},
	"DeleteExpired": func(t *testing.T, f *fixture) {
		f.user("u1")
		for _, s := range []store.Session{
			{TokenHash: "old", UserID: "u1", ExpiresAt: at(9)},
			{TokenHash: "edge", UserID: "u1", ExpiresAt: at(10)},
			{TokenHash: "live", UserID: "u1", ExpiresAt: at(11)},
		} {
			must(t, f.s.CreateSession(f.ctx, s), "CreateSession %s", s.TokenHash)
		}
		n, err := f.s.DeleteExpiredSessions(f.ctx, at(10))
		must(t, err, "DeleteExpiredSessions")
		if n != 2 {
			t.Errorf("DeleteExpiredSessions removed %d, want 2 (expiry at or before now)", n)
		}
		for _, h := range []string{"old", "edge"} {
			_, err := f.s.SessionByHash(f.ctx, h)
			wantErr(t, err, store.ErrNotFound, "expired session %s", h)
		}
		_, err = f.s.SessionByHash(f.ctx, "live")
		must(t, err, "live session after DeleteExpiredSessions")
		n, err = f.s.DeleteExpiredSessions(f.ctx, at(10))
		must(t, err, "DeleteExpiredSessions again")
		if n != 0 {
			t.Errorf("second DeleteExpiredSessions removed %d, want 0", n)
		}
	},
}

var tokensTests = map[string]func(*testing.T, *fixture){
	"CreateListTouchDelete": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.user("u2")
		t1 := store.APIToken{ID: "t1", UserID: "u1", Name: "laptop", TokenHash: "h1", CreatedAt: at(1)}
		t2 := store.APIToken{ID: "t2", UserID: "u1", Name: "script", TokenHash: "h2", CreatedAt: at(2)}
		t3 := store.APIToken{ID: "t3", UserID: "u2", Name: "phone", TokenHash: "h3", CreatedAt: at(3)}
		for _, tok := range []store.APIToken{t2, t1, t3} {
			must(t, f.s.CreateAPIToken(f.ctx, tok), "CreateAPIToken %s", tok.ID)
		}
		dup := t1
		dup.ID = "t9"
		wantErr(t, f.s.CreateAPIToken(f.ctx, dup), store.ErrConflict, "CreateAPIToken with a taken hash")

		got, err := f.s.APITokenByHash(f.ctx, "h1")
		must(t, err, "APITokenByHash")
		same(t, got, t1, "APITokenByHash (LastUsedAt zero until used)")
		_, err = f.s.APITokenByHash(f.ctx, "unknown")
		wantErr(t, err, store.ErrNotFound, "APITokenByHash unknown")

		list, err := f.s.ListAPITokens(f.ctx, "u1")
		must(t, err, "ListAPITokens")
		same(t, list, []store.APIToken{t1, t2}, "ListAPITokens (own only, oldest first)")

		must(t, f.s.TouchAPIToken(f.ctx, "t1", at(30)), "TouchAPIToken")
		t1.LastUsedAt = at(30)
		got, err = f.s.APITokenByHash(f.ctx, "h1")
		must(t, err, "APITokenByHash after touch")
		same(t, got, t1, "token after TouchAPIToken")
		wantErr(t, f.s.TouchAPIToken(f.ctx, "unknown", at(30)), store.ErrNotFound, "TouchAPIToken unknown")

		must(t, f.s.DeleteAPIToken(f.ctx, "u1", "t1"), "DeleteAPIToken")
		_, err = f.s.APITokenByHash(f.ctx, "h1")
		wantErr(t, err, store.ErrNotFound, "APITokenByHash after delete")
		wantErr(t, f.s.DeleteAPIToken(f.ctx, "u1", "t1"), store.ErrNotFound, "DeleteAPIToken twice")
	},
}

var invitesTests = map[string]func(*testing.T, *fixture){
	"SingleUse": func(t *testing.T, f *fixture) {
		f.user("owner")
		in := store.Invite{TokenHash: "inv", CreatedBy: "owner", CreatedAt: at(0), ExpiresAt: at(60)}
		must(t, f.s.CreateInvite(f.ctx, in), "CreateInvite")
		peek, err := f.s.Invite(f.ctx, "inv", at(4))
		must(t, err, "Invite (read without using)")
		same(t, peek, in, "Invite result")
		got, err := f.s.UseInvite(f.ctx, "inv", at(5))
		must(t, err, "UseInvite")
		in.UsedAt = at(5)
		same(t, got, in, "UseInvite result")
		_, err = f.s.UseInvite(f.ctx, "inv", at(6))
		wantErr(t, err, store.ErrNotFound, "UseInvite a second time")
		_, err = f.s.Invite(f.ctx, "inv", at(6))
		wantErr(t, err, store.ErrNotFound, "Invite after it was used")
		_, err = f.s.UseInvite(f.ctx, "unknown", at(6))
		wantErr(t, err, store.ErrNotFound, "UseInvite unknown")
	},
	"Expired": func(t *testing.T, f *fixture) {
		f.user("owner")
		in := store.Invite{TokenHash: "inv", CreatedBy: "owner", CreatedAt: at(0), ExpiresAt: at(60)}
		must(t, f.s.CreateInvite(f.ctx, in), "CreateInvite")
		_, err := f.s.Invite(f.ctx, "inv", at(60))
		wantErr(t, err, store.ErrNotFound, "Invite at the expiry instant")
		_, err = f.s.UseInvite(f.ctx, "inv", at(60))
		wantErr(t, err, store.ErrNotFound, "UseInvite at the expiry instant")
		_, err = f.s.UseInvite(f.ctx, "inv", at(61))
		wantErr(t, err, store.ErrNotFound, "UseInvite after expiry")
		_, err = f.s.UseInvite(f.ctx, "inv", at(59))
		must(t, err, "UseInvite just before expiry (failed attempts must not spend it)")
	},
	"Race": func(t *testing.T, f *fixture) {
		f.user("owner")
		must(t, f.s.CreateInvite(f.ctx, store.Invite{TokenHash: "inv", CreatedBy: "owner", ExpiresAt: at(60)}), "CreateInvite")
		wins := race(t, 10, func() error { _, err := f.s.UseInvite(f.ctx, "inv", at(1)); return err })
		if wins != 1 {
			t.Errorf("%d concurrent UseInvite calls succeeded, want exactly 1", wins)
		}
	},
}

// race runs fn from n goroutines at once and returns how many succeeded;
// every failure must be ErrNotFound.
func race(t *testing.T, n int, fn func() error) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			err := fn()
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else {
				wantErr(t, err, store.ErrNotFound, "losing racer")
			}
		})
	}
	close(start)
	wg.Wait()
	return wins
}

var passwordResetsTests = map[string]func(*testing.T, *fixture){
	"SingleUse": func(t *testing.T, f *fixture) {
		f.user("u1")
		pr := store.PasswordReset{TokenHash: "r1", UserID: "u1", CreatedBy: "owner", CreatedAt: at(0), ExpiresAt: at(60)}
		must(t, f.s.CreatePasswordReset(f.ctx, pr), "CreatePasswordReset")
		got, err := f.s.UsePasswordReset(f.ctx, "r1", at(5))
		must(t, err, "UsePasswordReset")
		pr.UsedAt = at(5)
		same(t, got, pr, "UsePasswordReset result")
		_, err = f.s.UsePasswordReset(f.ctx, "r1", at(6))
		wantErr(t, err, store.ErrNotFound, "UsePasswordReset a second time")
		_, err = f.s.UsePasswordReset(f.ctx, "unknown", at(6))
		wantErr(t, err, store.ErrNotFound, "UsePasswordReset unknown")
		wantErr(t, f.s.CreatePasswordReset(f.ctx, store.PasswordReset{TokenHash: "r2", UserID: "ghost", ExpiresAt: at(60)}),
			store.ErrNotFound, "CreatePasswordReset for an unknown user")
	},
	"NewestOnlyAndExpiry": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.user("u2")
		must(t, f.s.CreatePasswordReset(f.ctx, store.PasswordReset{TokenHash: "old", UserID: "u1", ExpiresAt: at(60)}), "CreatePasswordReset old")
		must(t, f.s.CreatePasswordReset(f.ctx, store.PasswordReset{TokenHash: "other", UserID: "u2", ExpiresAt: at(60)}), "CreatePasswordReset other user")
		must(t, f.s.CreatePasswordReset(f.ctx, store.PasswordReset{TokenHash: "new", UserID: "u1", ExpiresAt: at(60)}), "CreatePasswordReset new")
		_, err := f.s.UsePasswordReset(f.ctx, "old", at(1))
		wantErr(t, err, store.ErrNotFound, "UsePasswordReset of a replaced link")
		_, err = f.s.UsePasswordReset(f.ctx, "new", at(60))
		wantErr(t, err, store.ErrNotFound, "UsePasswordReset at the expiry instant")
		_, err = f.s.UsePasswordReset(f.ctx, "new", at(59))
		must(t, err, "UsePasswordReset just before expiry")
		_, err = f.s.UsePasswordReset(f.ctx, "other", at(1))
		must(t, err, "another user's link is untouched by a new link")
	},
	"Race": func(t *testing.T, f *fixture) {
		f.user("u1")
		must(t, f.s.CreatePasswordReset(f.ctx, store.PasswordReset{TokenHash: "r", UserID: "u1", ExpiresAt: at(60)}), "CreatePasswordReset")
		wins := race(t, 10, func() error { _, err := f.s.UsePasswordReset(f.ctx, "r", at(1)); return err })
		if wins != 1 {
			t.Errorf("%d concurrent UsePasswordReset calls succeeded, want exactly 1", wins)
		}
	},
}
