package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Cluster joins os1 nodes through NATS (docs/scale.md, "A cluster"). Unset,
// os1 is one process and no NATS code runs.
type Cluster struct {
	// NATSURL is nats://host:4222 (several, comma-separated, for a NATS
	// cluster); the server must have JetStream on. OS1_NATS_URL overrides it.
	NATSURL string `toml:"nats_url"`
	// Node names this node in logs and /api/health; empty: hostname-pid.
	// OS1_NODE_NAME overrides it.
	Node string `toml:"node"`
	// StaleAfter is how long a reply may stay "streaming" without a save
	// and without any node running its turn before a sweep marks it
	// interrupted (its node died). Default 30s; OS1_CLUSTER_STALE_AFTER.
	StaleAfter Duration `toml:"stale_after"`
	// JobAckWait is how long a background job whose node stopped reporting
	// stays with that node before another takes it. Default 30s;
	// OS1_CLUSTER_JOB_ACK_WAIT.
	JobAckWait Duration `toml:"job_ack_wait"`
}

// Clustered reports whether os1 joins other nodes through NATS.
func (c Config) Clustered() bool { return c.Cluster.NATSURL != "" }

// Defaults of the cluster's bounds.
const (
	DefaultStaleAfter = 30 * time.Second
	DefaultJobAckWait = 30 * time.Second
)

// applyClusterEnv reads the cluster's environment (which wins over the file).
func applyClusterEnv(c *Config, env func(string) string) error {
	setIf(&c.Cluster.NATSURL, env("OS1_NATS_URL"))
	setIf(&c.Cluster.Node, env("OS1_NODE_NAME"))
	for _, d := range []struct {
		key string
		dst *Duration
	}{{"OS1_CLUSTER_STALE_AFTER", &c.Cluster.StaleAfter}, {"OS1_CLUSTER_JOB_ACK_WAIT", &c.Cluster.JobAckWait}} {
		if v := env(d.key); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want a duration like 30s: %w", d.key, v, err)
			}
			d.dst.Duration = dur
		}
	}
	return nil
}

// validateCluster checks the cluster section; the URL is never quoted (it
// may hold a password or token).
func (c Config) validateCluster() []error {
	var errs []error
	if c.Cluster.NATSURL != "" {
		for _, one := range strings.Split(c.Cluster.NATSURL, ",") {
			u, err := url.Parse(strings.TrimSpace(one))
			if err != nil || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
				errs = append(errs, errors.New("cluster nats_url is not a NATS URL (nats://host:4222): set OS1_NATS_URL, or leave it unset for one process"))
				break
			}
		}
	}
	if c.Cluster.StaleAfter.Duration < 0 {
		errs = append(errs, errors.New("cluster.stale_after must be positive (for example 30s): set OS1_CLUSTER_STALE_AFTER"))
	}
	if c.Cluster.JobAckWait.Duration < 0 {
		errs = append(errs, errors.New("cluster.job_ack_wait must be positive (for example 30s): set OS1_CLUSTER_JOB_ACK_WAIT"))
	}
	return errs
}
