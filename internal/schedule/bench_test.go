package schedule_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// BenchmarkScheduler: 100,000 reminders of 10,000 users, due over a short
// span on the real clock, through the SQLite store: how late each starts
// (p50, p99, max), how fast they drain, the process's peak RSS, and the
// scheduler's wake-ups while idle. Run it once:
//
//	go test -run '^$' -bench BenchmarkScheduler -benchtime 1x ./internal/schedule/
//
// BENCH_SPAN (default 20s) is the span the due times are spread over;
// BENCH_IDLE (default 1m) how long the idle scheduler is watched;
// BENCH_HEAD (default 45s) how long after the adding starts the first is
// due (adding them must be over by then).
func BenchmarkScheduler(b *testing.B) {
	const users, jobs = 10_000, 100_000
	span := envDuration("BENCH_SPAN", 20*time.Second)
	idle := envDuration("BENCH_IDLE", time.Minute)
	head := envDuration("BENCH_HEAD", 45*time.Second)
	for b.Loop() {
		ctx := context.Background()
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "os1.db"))
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		for i := range users {
			if err := db.CreateUser(ctx, store.User{ID: fmt.Sprintf("usr_%05d", i), Username: fmt.Sprintf("u%05d", i),
				DisplayName: "U", Role: store.RoleMember, PasswordHash: "x", CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
		st := sqlitesched.New(db)
		var mu sync.Mutex
		late := make([]time.Duration, 0, jobs)
		all := make(chan struct{})
		s := schedule.New(st, clock.System{}, clock.RandomIDs{}, schedule.Options{Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		s.Handle("reminder", schedule.Kind{Handler: func(_ context.Context, f schedule.Firing) error {
			d := time.Since(f.Due)
			mu.Lock()
			late = append(late, d)
			if len(late) == jobs {
				close(all)
			}
			mu.Unlock()
			return nil
		}})
		// Added before the scheduler starts, as after a restart; the
		// first is due a few seconds after they are all in.
		addStart := time.Now()
		first := addStart.Add(head)
		for i := range jobs {
			due := first.Add(time.Duration(i) * span / jobs)
			if err := st.AddJob(ctx, schedule.Job{ID: fmt.Sprintf("job_%06d", i), UserID: fmt.Sprintf("usr_%05d", i%users),
				Kind: "reminder", Payload: []byte(`{"text":"call mum","zone":"Europe/Berlin"}`), Due: due,
				State: schedule.Pending, CreatedAt: addStart}); err != nil {
				b.Fatal(err)
			}
		}
		added := time.Since(addStart)
		if time.Now().After(first) {
			b.Fatalf("adding %d jobs took %v, past the first due time; raise the head start", jobs, added)
		}
		if err := s.Start(ctx); err != nil {
			b.Fatal(err)
		}
		select {
		case <-all:
		case <-time.After(span + 5*time.Minute):
			b.Fatalf("only %d of %d fired", len(late), jobs)
		}
		drained := time.Since(first)
		busyWakeups := s.Stats().Wakeups

		// Idle: the same scheduler with 100,000 jobs due in a day.
		tomorrow := time.Now().Add(24 * time.Hour)
		for i := range 1000 {
			if err := st.AddJob(ctx, schedule.Job{ID: fmt.Sprintf("later_%06d", i), UserID: fmt.Sprintf("usr_%05d", i%users),
				Kind: "reminder", Payload: []byte(`{}`), Due: tomorrow, State: schedule.Pending, CreatedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
		}
		s.Wake()
		for { // the settler may lag the handlers: idle starts once all are recorded
			var done int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM schedule_jobs WHERE state = 'done'`).Scan(&done); err != nil {
				b.Fatal(err)
			}
			if done == jobs {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second)
		w0 := s.Stats().Wakeups
		time.Sleep(idle)
		idleWakeups := s.Stats().Wakeups - w0
		s.Close()
		db.Close()

		slices.Sort(late)
		q := func(p float64) time.Duration { return late[min(len(late)-1, int(p*float64(len(late))))] }
		b.ReportMetric(float64(q(0.50).Microseconds())/1000, "late_p50_ms")
		b.ReportMetric(float64(q(0.99).Microseconds())/1000, "late_p99_ms")
		b.ReportMetric(float64(late[len(late)-1].Microseconds())/1000, "late_max_ms")
		b.ReportMetric(float64(jobs)/drained.Seconds(), "fired/s")
		b.ReportMetric(float64(busyWakeups), "busy_wakeups")
		b.ReportMetric(float64(idleWakeups)*float64(time.Minute)/float64(idle), "idle_wakeups/min")
		b.ReportMetric(procStatusMB("VmHWM"), "peak_rss_MB")
		b.Logf("%d jobs of %d users added in %v; due over %v, all fired %v after the first was due", jobs, users, added.Round(time.Millisecond), span, drained.Round(time.Millisecond))
	}
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil && d > 0 {
		return d
	}
	return def
}

// procStatusMB reads a memory line of /proc/self/status (Linux) in MB; 0
// elsewhere.
func procStatusMB(key string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
