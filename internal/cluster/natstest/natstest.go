// Package natstest runs an embedded NATS server for tests of code that
// joins a cluster (internal/cluster, internal/app, internal/cli). Tests only.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Start runs a NATS server on a free local port, with JetStream (its store
// in a temporary folder) when jetStream is true, stopped when t ends. It
// returns the client URL.
func Start(t testing.TB, jetStream bool) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: jetStream,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}
