package imapsync_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

// benchMessage is a typical mail: multipart/alternative, a few paragraphs
// of text and the same as HTML (about 3 KB).
func benchMessage(i int, date time.Time) []byte {
	para := strings.Repeat(fmt.Sprintf("Paragraph of message %d about the flat, the deposit and Friday's plans. ", i), 6)
	var b strings.Builder
	fmt.Fprintf(&b, "From: Sender %d <s%d@example.net>\r\nTo: ann@example.org\r\nSubject: message %d\r\nDate: %s\r\n"+
		"Message-ID: <b%d@example.net>\r\nList-Id: <list%d.example.net>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/alternative; boundary=BB\r\n\r\n--BB\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		i, i%300, i, date.Format(time.RFC1123Z), i, i%20)
	for range 3 {
		b.WriteString(para + "\r\n\r\n")
	}
	b.WriteString("--BB\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>")
	for range 3 {
		b.WriteString("<p>" + para + "</p>")
	}
	b.WriteString("</body></html>\r\n--BB--\r\n")
	return []byte(b.String())
}

func benchServer(b *testing.B, n int) *dovecottest.Server {
	b.Helper()
	srv := dovecottest.Start(b)
	srv.AddUser("ann", "pw")
	now := time.Now()
	for i := range n {
		srv.Deliver("ann", benchMessage(i, now.Add(-time.Duration(n-i)*time.Minute)))
	}
	// dovecot indexes a maildir on its first SELECT; a real server has.
	c, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Login("ann", "pw").Wait(); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	_ = c.Logout().Wait()
	c.Close()
	return srv
}

// cpuTime is the CPU time this process has used (user + system): os1's
// share of a sync, not inflated by other jobs on a shared machine, and
// without dovecot's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssKB reads a field (VmRSS, VmHWM) of /proc/self/status in KiB.
func rssKB(field string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// BenchmarkFirstSync10k: a first sync of 10,000 messages from dovecot into
// a fresh SQLite store. Reports messages per second, the process's peak RSS
// (VmHWM, the whole test process) and the peak Go heap sampled during the
// sync, and os1's CPU time (os1-cpu-s).
//
//	go test -run '^$' -bench FirstSync10k -benchtime 1x ./internal/mail/imapsync/
func BenchmarkFirstSync10k(b *testing.B) {
	const n = 10000
	srv := benchServer(b, n)
	creds := mail.Credentials{Password: "pw"}
	for b.Loop() {
		b.StopTimer()
		r := newRig(b, srv.Addr, "ann")
		runtime.GC()
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		cpu0 := cpuTime()
		b.StartTimer()
		start := time.Now()
		rep, err := (&imapsync.Engine{}).Sync(context.Background(), r.acct, creds, r.st, nil)
		took := time.Since(start)
		b.StopTimer()
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "os1-cpu-s")
		close(stop)
		<-sampled
		if err != nil || rep.Fetched() != n {
			b.Fatalf("synced %d of %d: %v", rep.Fetched(), n, err)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "msgs/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(rssKB("VmHWM"))/1024, "peak-rss-MiB")
		b.StartTimer()
	}
}

// BenchmarkIncrementalSync: one new message in a 10,000-message INBOX,
// from delivery to stored: IDLE wakes, then a sync runs (what the mail
// service does on a wake-up). ns/op is delivery → stored; sync-ms is the
// sync alone. fresh: each sync connects and signs in; kept: KeepOpen.
//
//	go test -run '^$' -bench IncrementalSync -benchtime 20x ./internal/mail/imapsync/
func BenchmarkIncrementalSync(b *testing.B) {
	const n = 10000
	srv := benchServer(b, n)
	creds := mail.Credentials{Password: "pw"}
	r := newRig(b, srv.Addr, "ann")
	if _, err := (&imapsync.Engine{}).Sync(context.Background(), r.acct, creds, r.st, nil); err != nil {
		b.Fatal(err)
	}
	next := n
	for _, keep := range []bool{false, true} {
		name := "fresh"
		if keep {
			name = "kept"
		}
		b.Run(name, func(b *testing.B) {
			eng := &imapsync.Engine{KeepOpen: keep}
			defer eng.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			woke := make(chan struct{}, 100)
			idleDone := make(chan error, 1)
			go func() { idleDone <- eng.Idle(ctx, r.acct, creds, "", func() { woke <- struct{}{} }) }()
			time.Sleep(time.Second) // IDLE is running
			if _, err := eng.Sync(context.Background(), r.acct, creds, r.st, nil); err != nil {
				b.Fatal(err) // opens the kept session
			}
			var syncTotal time.Duration
			i := 0
			for b.Loop() {
				i++
				next++
				srv.Deliver("ann", benchMessage(next, time.Now()))
				select {
				case <-woke:
				case err := <-idleDone:
					b.Fatalf("Idle ended: %v", err)
				case <-time.After(30 * time.Second):
					b.Fatal("IDLE did not wake within 30 s")
				}
				s := time.Now()
				rep, err := eng.Sync(context.Background(), r.acct, creds, r.st, nil)
				syncTotal += time.Since(s)
				if err != nil || rep.Fetched() != 1 {
					b.Fatalf("incremental sync: %+v %v", rep, err)
				}
			}
			b.ReportMetric(float64(syncTotal.Microseconds())/1000/float64(i), "sync-ms")
		})
	}
}
