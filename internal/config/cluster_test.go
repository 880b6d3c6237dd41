package config

import (
	"strings"
	"testing"
	"time"
)

// The cluster's environment wins over the file; a bad URL or duration is
// refused without quoting the URL.
func TestClusterConfig(t *testing.T) {
	c := Defaults(func(string) string { return "" })
	c.DataDir = t.TempDir()
	c.Cluster.NATSURL = "nats://file:4222"
	env := map[string]string{"OS1_NATS_URL": "nats://a:4222, nats://b:4222", "OS1_NODE_NAME": "n1",
		"OS1_CLUSTER_STALE_AFTER": "2s", "OS1_CLUSTER_JOB_ACK_WAIT": "3s"}
	if err := applyEnv(&c, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if !c.Clustered() || c.Cluster.NATSURL != env["OS1_NATS_URL"] || c.Cluster.Node != "n1" ||
		c.Cluster.StaleAfter.Duration != 2*time.Second || c.Cluster.JobAckWait.Duration != 3*time.Second {
		t.Fatalf("cluster config %+v", c.Cluster)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Cluster.NATSURL = "http://secret@host:4222"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "OS1_NATS_URL") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("bad URL: %v", err)
	}
	env = map[string]string{"OS1_CLUSTER_STALE_AFTER": "soon"}
	if err := applyEnv(&c, func(k string) string { return env[k] }); err == nil {
		t.Fatal("a bad duration was taken")
	}
	if (Config{}).Clustered() {
		t.Fatal("no URL is one process")
	}
}
