package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/cluster"
)

func openJobs(t *testing.T, url, node string, ackWait time.Duration) *cluster.Jobs {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := cluster.OpenJobs(ctx, connect(t, url, node), cluster.JobsOptions{AckWait: ackWait, Retry: 50 * time.Millisecond, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestJobOfDeadNodeIsFinishedByAnother: node A takes a job and dies mid-job
// (its connection drops, no ack); after AckWait node B gets the job and
// finishes it, and the queue is empty.
func TestJobOfDeadNodeIsFinishedByAnother(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	ctx := context.Background()

	ncA := connect(t, s.ClientURL(), "a")
	a, err := cluster.OpenJobs(ctx, ncA, cluster.JobsOptions{AckWait: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Enqueue(ctx, "memory", "job-1", []byte("extract conv c1")); err != nil {
		t.Fatal(err)
	}
	started := make(chan cluster.Job, 1)
	dead := make(chan struct{})
	defer close(dead)
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	go func() {
		_ = a.Work(actx, func(_ context.Context, j cluster.Job) error {
			started <- j
			<-dead // A hangs mid-job: the process is gone before it acks
			return errors.New("node A died")
		})
	}()
	var first cluster.Job
	select {
	case first = <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("node A never got the job")
	}
	if first.Attempt != 1 || first.Kind != "memory" || string(first.Data) != "extract conv c1" {
		t.Fatalf("A got %+v", first)
	}
	ncA.Close() // node A is gone: no ack, no progress

	b := openJobs(t, s.ClientURL(), "b", 500*time.Millisecond)
	done := make(chan cluster.Job, 1)
	bctx, stopB := context.WithCancel(ctx)
	defer stopB()
	go func() {
		_ = b.Work(bctx, func(_ context.Context, j cluster.Job) error { done <- j; return nil })
	}()
	select {
	case j := <-done:
		if j.Attempt != 2 || string(j.Data) != "extract conv c1" {
			t.Fatalf("B got %+v, want the same job, second attempt", j)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("node B never finished A's job")
	}
	eventually(t, "the acked job leaves the queue", func() bool {
		n, err := b.Pending(ctx)
		return err == nil && n == 0
	})
}

// TestJobsEachDoneOnce: two nodes work one queue; every job is done exactly
// once, a failing job is retried and then done, a job enqueued twice with
// the same id is one job, and a slow job is not taken from its worker while
// it reports progress.
func TestJobsEachDoneOnce(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := openJobs(t, s.ClientURL(), "a", 300*time.Millisecond)
	b := openJobs(t, s.ClientURL(), "b", 300*time.Millisecond)

	const n = 40
	for i := range n {
		if err := a.Enqueue(ctx, "memory", fmt.Sprintf("job-%d", i), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Enqueue(ctx, "memory", "job-0", []byte("0")); err != nil { // same id: deduplicated
		t.Fatal(err)
	}
	if err := a.Enqueue(ctx, "bad kind", "", nil); err == nil {
		t.Fatal("a kind with a space was accepted")
	}

	var mu sync.Mutex
	doneBy := map[string][]string{}
	failedOnce := false
	handle := func(node string) func(context.Context, cluster.Job) error {
		return func(_ context.Context, j cluster.Job) error {
			d := string(j.Data)
			if d == "7" {
				mu.Lock()
				first := !failedOnce
				failedOnce = true
				mu.Unlock()
				if first {
					return errors.New("model unavailable")
				}
			}
			if d == "3" {
				time.Sleep(time.Second) // over three AckWaits: kept by progress reports
			}
			mu.Lock()
			doneBy[d] = append(doneBy[d], node)
			mu.Unlock()
			return nil
		}
	}
	go func() { _ = a.Work(ctx, handle("a")) }()
	go func() { _ = b.Work(ctx, handle("b")) }()
	eventually(t, "every job done", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(doneBy) == n
	})
	eventually(t, "queue empty", func() bool {
		p, err := a.Pending(ctx)
		return err == nil && p == 0
	})
	time.Sleep(500 * time.Millisecond) // a redelivery would show up here
	mu.Lock()
	defer mu.Unlock()
	nodes := map[string]int{}
	for d, by := range doneBy {
		if len(by) != 1 {
			t.Errorf("job %s done %d times (%v)", d, len(by), by)
		}
		nodes[by[0]]++
	}
	if !failedOnce {
		t.Error("the failing job never ran")
	}
	if nodes["a"] == 0 || nodes["b"] == 0 {
		t.Errorf("work not shared between nodes: %v", nodes)
	}
}

// TestJobsOutliveNATSRestart: jobs are on the NATS server's disk; after it
// restarts on the same port and store, a worker does them; a worker waiting
// for jobs through a restart reconnects and carries on.
func TestJobsOutliveNATSRestart(t *testing.T) {
	dir := t.TempDir()
	s := natsServer(t, 0, dir)
	port := s.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j := openJobs(t, s.ClientURL(), "a", 5*time.Second)
	for i := range 3 {
		if err := j.Enqueue(ctx, "memory", "", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	s.Shutdown()
	s.WaitForShutdown()
	s = natsServer(t, port, dir)
	defer s.Shutdown()

	var mu sync.Mutex
	var done []string
	go func() {
		_ = j.Work(ctx, func(_ context.Context, job cluster.Job) error {
			mu.Lock()
			done = append(done, string(job.Data))
			mu.Unlock()
			return nil
		})
	}()
	eventually(t, "jobs done after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(done) == 3
	})
	eventually(t, "acks in", func() bool { // jobs are done at least once: an ack lost in a restart means a redelivery
		n, err := j.Pending(ctx)
		return err == nil && n == 0
	})

	// A worker that was waiting for jobs across a second restart carries on.
	s.Shutdown()
	s.WaitForShutdown()
	s = natsServer(t, port, dir)
	defer s.Shutdown()
	for i := 3; i < 5; i++ {
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		err := j.Enqueue(rctx, "memory", "", []byte(fmt.Sprint(i)))
		rcancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "jobs done by the reconnected worker", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(done) == 5
	})
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(done) != "[0 1 2 3 4]" {
		t.Fatalf("done %v, want [0 1 2 3 4], each once", done)
	}
}
