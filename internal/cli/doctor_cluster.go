package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/config"
)

// The names internal/cluster gives what it keeps on NATS (OpenJobs,
// OpenTurns defaults), as os1 serve opens them.
const (
	jobsStream    = "OS1_JOBS"
	jobsConsumer  = "os1-workers"
	turnsBucket   = "OS1_TURNS"
	natsTimeout   = 3 * time.Second
	natsURLFixEnv = "[cluster] nats_url, OS1_NATS_URL"
)

// clusterChecks says whether this os1 joins a cluster and, when it does,
// whether NATS answers with what os1 serve needs there. It only reads: the
// jobs stream and the turn claims are made by os1 serve, not here.
func clusterChecks(ctx context.Context, cfg config.Config) []check {
	if !cfg.Clustered() {
		return []check{{name: "cluster", ok: true, msg: "off (one process)"}}
	}
	out := []check{{name: "cluster", ok: true, msg: "on; this node is " + nodeNameNote(cfg)}}
	if !cfg.Postgres() {
		// os1 serve does not refuse it: nodes on one machine can share the
		// file (the in-process cluster tests do), nodes on others cannot.
		out = append(out, check{name: "cluster", warn: true,
			msg: "nats_url is set but the database is SQLite (" + cfg.DBPath() + "): os1 serve starts, but only nodes on this machine can share the file; a cluster needs PostgreSQL",
			fix: "set [database] url (OS1_DATABASE_URL) to one PostgreSQL on every node; `os1 migrate --to URL` copies this data dir into it"})
	}
	where := redactNATS(cfg.Cluster.NATSURL)
	nc, err := nats.Connect(cfg.Cluster.NATSURL, nats.Name("os1 doctor"), nats.Timeout(natsTimeout), nats.NoReconnect())
	if err != nil {
		return append(out, check{name: "nats", msg: fmt.Sprintf("no NATS server answers at %s: %v", where, err),
			fix: "start nats-server with JetStream (nats-server -js) there, or correct " + natsURLFixEnv + "; unset it to run one process"})
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, natsTimeout)
	defer cancel()
	js, err := jetstream.New(nc)
	if err == nil {
		_, err = js.AccountInfo(ctx)
	}
	server := fmt.Sprintf("NATS %s at %s", nc.ConnectedServerVersion(), where)
	switch {
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return append(out, check{name: "nats", msg: server + " answers, but JetStream is off: os1 serve refuses to join",
			fix: "start nats-server with -js (or a jetstream {} block in its config, enabled for this account)"})
	case err != nil:
		return append(out, check{name: "nats", msg: server + " answers, but JetStream does not: " + err.Error(),
			fix: "check the NATS server's log; JetStream must be on (nats-server -js)"})
	}
	out = append(out, check{name: "nats", ok: true, msg: server + " answers, JetStream on"})
	return append(out, jobsCheck(ctx, js), turnsCheck(ctx, js, cfg))
}

// nodeNameNote is this node's name as os1 serve will use it (app.NodeName).
func nodeNameNote(cfg config.Config) string {
	if cfg.Cluster.Node != "" {
		return fmt.Sprintf("%q (%s)", app.NodeName(cfg), "[cluster] node, OS1_NODE_NAME")
	}
	// Unset, each os1 serve is hostname-pid: doctor's own pid says nothing.
	host := strings.TrimSuffix(app.NodeName(cfg), fmt.Sprintf("-%d", os.Getpid()))
	return fmt.Sprintf("%s-<pid of os1 serve> (set [cluster] node or OS1_NODE_NAME for a name that stays)", host)
}

func jobsCheck(ctx context.Context, js jetstream.JetStream) check {
	s, err := js.Stream(ctx, jobsStream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return check{name: "jobs", ok: true, msg: "stream " + jobsStream + " not made yet: the first `os1 serve` on this NATS makes it"}
	case err != nil:
		return check{name: "jobs", msg: "stream " + jobsStream + ": " + err.Error(), fix: "check the NATS server's log"}
	}
	info, err := s.Info(ctx)
	if err != nil {
		return check{name: "jobs", msg: "stream " + jobsStream + ": " + err.Error(), fix: "check the NATS server's log"}
	}
	msg := fmt.Sprintf("stream %s: %d job(s) pending", jobsStream, info.State.Msgs)
	if c, err := s.Consumer(ctx, jobsConsumer); err == nil {
		if ci, err := c.Info(ctx); err == nil {
			msg += fmt.Sprintf(", %d being worked on", ci.NumAckPending)
		}
	}
	return check{name: "jobs", ok: true, msg: msg}
}

func turnsCheck(ctx context.Context, js jetstream.JetStream, cfg config.Config) check {
	kv, err := js.KeyValue(ctx, turnsBucket)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		return check{name: "turns", ok: true, msg: "claims bucket " + turnsBucket + " not made yet: the first `os1 serve` on this NATS makes it"}
	case err != nil:
		return check{name: "turns", msg: "claims bucket " + turnsBucket + ": " + err.Error(), fix: "check the NATS server's log"}
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return check{name: "turns", msg: "claims bucket " + turnsBucket + ": " + err.Error(), fix: "check the NATS server's log"}
	}
	running := 0
	if keys, err := kv.ListKeys(ctx); err == nil {
		for range keys.Keys() {
			running++
		}
	}
	c := check{name: "turns", ok: true, msg: fmt.Sprintf("claims bucket %s: %d turn(s) running, claims expire after %s", turnsBucket, running, st.TTL())}
	// The bucket's expiry is the stale_after of the node that last opened it.
	want := cfg.Cluster.StaleAfter.Duration
	if want <= 0 {
		want = config.DefaultStaleAfter
	}
	if want = max(want, time.Second); st.TTL() != want {
		c.ok, c.warn = false, true
		c.msg += fmt.Sprintf(", but this node's stale_after is %s", want)
		c.fix = "give every node the same [cluster] stale_after (OS1_CLUSTER_STALE_AFTER): it is the claims' expiry"
	}
	return c
}

// redactNATS shows NATS URLs without their secrets: a password, or a user
// part with none (a token).
func redactNATS(s string) string {
	var out []string
	for _, one := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || u.Host == "" {
			out = append(out, "(a NATS URL that does not parse)")
			continue
		}
		if u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			} else {
				u.User = url.User("xxxxx")
			}
		}
		out = append(out, u.String())
	}
	return strings.Join(out, ",")
}
