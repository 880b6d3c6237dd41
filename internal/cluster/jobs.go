package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JobsOptions configure the work queue.
type JobsOptions struct {
	Stream   string        // stream name (default OS1_JOBS)
	Consumer string        // durable consumer shared by every node (default os1-workers)
	AckWait  time.Duration // a job not acked or touched for this long goes to another worker (default 30s)
	// MaxDeliver bounds attempts; a job that fails this many times is
	// terminated and logged (default 5).
	MaxDeliver int
	Replicas   int           // stream replicas in a NATS cluster (default 1)
	Retry      time.Duration // delay before a failed job is offered again (default 5s)
	Log        *slog.Logger
}

// Job is one background job as a handler sees it.
type Job struct {
	Kind    string // the subject's last token: os1.jobs.<kind>
	Data    []byte
	Attempt uint64 // 1 for the first delivery
}

// Jobs is a JetStream work queue shared by the nodes: each job is handed to
// one worker at a time and removed once acked. A worker that dies mid-job
// (no ack, no progress) loses it after AckWait, and another node's worker
// gets it again. Jobs are kept on the NATS server's disk, so they outlive
// every node and a NATS restart.
type Jobs struct {
	js   jetstream.JetStream
	cons jetstream.Consumer
	opts JobsOptions
}

// OpenJobs creates (or updates) the stream and the durable pull consumer.
func OpenJobs(ctx context.Context, nc *nats.Conn, o JobsOptions) (*Jobs, error) {
	if o.Stream == "" {
		o.Stream = "OS1_JOBS"
	}
	if o.Consumer == "" {
		o.Consumer = "os1-workers"
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 5
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Retry <= 0 {
		o.Retry = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      o.Stream,
		Subjects:  []string{"os1.jobs.>"},
		Retention: jetstream.WorkQueuePolicy,
		Storage:   jetstream.FileStorage,
		Replicas:  o.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("jobs stream: %w", err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, o.Stream, jetstream.ConsumerConfig{
		Durable:    o.Consumer,
		AckPolicy:  jetstream.AckExplicitPolicy,
		AckWait:    o.AckWait,
		MaxDeliver: o.MaxDeliver,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs consumer: %w", err)
	}
	return &Jobs{js: js, cons: cons, opts: o}, nil
}

// Enqueue stores a job. id, when not empty, makes it idempotent: the same id
// enqueued twice within the stream's duplicate window is one job.
func (j *Jobs) Enqueue(ctx context.Context, kind, id string, data []byte) error {
	if kind == "" || !plain(kind) {
		return fmt.Errorf("job kind %q: letters, digits, '-' and '_' only", kind)
	}
	var opts []jetstream.PublishOpt
	if id != "" {
		opts = append(opts, jetstream.WithMsgID(id))
	}
	_, err := j.js.Publish(ctx, "os1.jobs."+kind, data, opts...)
	return err
}

// Work runs handle on jobs, one at a time, until ctx ends. A job is acked
// when handle returns nil, offered again after Retry when it fails or panics,
// and kept from other workers while handle runs (progress is reported every
// AckWait/3). Run one Work per worker slot.
func (j *Jobs) Work(ctx context.Context, handle func(context.Context, Job) error) error {
	for ctx.Err() == nil {
		msg, err := j.cons.Next(jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				continue
			}
			if ctx.Err() != nil {
				break
			}
			j.opts.Log.Warn("jobs: fetch", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		j.run(ctx, msg, handle)
	}
	return ctx.Err()
}

func (j *Jobs) run(ctx context.Context, msg jetstream.Msg, handle func(context.Context, Job) error) {
	job := Job{Data: msg.Data(), Attempt: 1}
	if subj := msg.Subject(); len(subj) > len("os1.jobs.") {
		job.Kind = subj[len("os1.jobs."):]
	}
	if md, err := msg.Metadata(); err == nil {
		job.Attempt = md.NumDelivered
	}
	done := make(chan struct{})
	go func() {
		// Real time, not internal/clock: AckWait runs on the NATS server's
		// clock, and a fake one here would let the server take the job away.
		t := time.NewTicker(j.opts.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("job panicked: %v", p)
			}
		}()
		return handle(ctx, job)
	}()
	close(done)
	switch {
	case err == nil:
		if aerr := msg.DoubleAck(context.WithoutCancel(ctx)); aerr != nil {
			j.opts.Log.Warn("jobs: ack", "kind", job.Kind, "err", aerr)
		}
	case ctx.Err() != nil:
		// Stopping: hand the job back now rather than after AckWait.
		_ = msg.Nak()
	case job.Attempt >= uint64(j.opts.MaxDeliver):
		j.opts.Log.Error("jobs: giving up", "kind", job.Kind, "attempts", job.Attempt, "err", err)
		_ = msg.TermWithReason(err.Error())
	default:
		j.opts.Log.Warn("jobs: failed, will retry", "kind", job.Kind, "attempt", job.Attempt, "err", err)
		_ = msg.NakWithDelay(j.opts.Retry)
	}
}

// Pending reports how many jobs wait in the stream (acked jobs are gone).
func (j *Jobs) Pending(ctx context.Context) (uint64, error) {
	s, err := j.js.Stream(ctx, j.opts.Stream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}
