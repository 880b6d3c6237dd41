package imapsync_test

import (
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// BenchmarkPushToTriaged: a message delivered to dovecot, pushed by IDLE,
// synced and triaged by the rules ranker through mail.Service as os1 serve
// runs it, over a mailbox of 1,000 messages. Reports p50/p99 of delivery →
// triaged in the store (dovecot's own IDLE notice delay included).
//
//	go test -run '^$' -bench PushToTriaged -benchtime 20x ./internal/mail/imapsync/
func BenchmarkPushToTriaged(b *testing.B) {
	srv := benchServer(b, 1000)
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "os1.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateUser(b.Context(), store.User{ID: "usr_ann", Username: "ann", DisplayName: "Ann", Role: store.RoleOwner,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	box, err := secret.LoadOrCreateKey(filepath.Join(b.TempDir(), "secret.key"))
	if err != nil {
		b.Fatal(err)
	}
	engine := &imapsync.Engine{}
	st := sqlitemail.New(db)
	svc := &mail.Service{Store: st, Sealer: box, Syncer: imapsync.Syncer{Engine: engine}, Idle: engine,
		Clock: clock.System{}, IDs: clock.RandomIDs{}, Every: -1}
	svc.Triage = svc.TriageWith(mail.Triager{}, nil)
	defer svc.Close()
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	a, err := svc.AddAccount(b.Context(), "usr_ann", mail.AccountInput{Address: "ann@example.org", Username: "ann", Password: "pw",
		IMAP: mail.Endpoint{Host: host, Port: p, Security: mail.Plain}, SyncDays: 3650})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Sync(b.Context(), "usr_ann", a.ID); err != nil {
		b.Fatal(err)
	}
	if err := svc.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the watcher's IDLE is open
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		subject := "pushed " + time.Now().Format("150405.000000")
		start := time.Now()
		srv.Deliver("ann", benchMessage(100000+i, time.Now()))
		for {
			ms, err := st.Messages(b.Context(), "usr_ann", mail.Query{Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
			if len(ms) == 1 && ms[0].UID > uint32(1000+i) && ms[0].Triage.Triaged() {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("message %d (%s) not triaged after 30 s", i, subject)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Milliseconds()), "p99-ms")
}
