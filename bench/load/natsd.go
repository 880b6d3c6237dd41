package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// serveNATS runs an embedded NATS server with JetStream (its store in dir)
// until SIGTERM or SIGINT: the cluster's bus for -nodes ≥ 2. The harness
// runs it as its own process (`load -serve-nats ADDR -nats-dir DIR`), so
// its CPU is counted apart from the load client's.
func serveNATS(addr, dir string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	var p int
	if _, err := fmt.Sscan(port, &p); err != nil {
		return fmt.Errorf("port %q: %w", port, err)
	}
	if p == 0 {
		p = server.RANDOM_PORT
	}
	if dir == "" {
		return errors.New("-serve-nats needs -nats-dir (JetStream's store)")
	}
	s, err := server.NewServer(&server.Options{Host: host, Port: p, JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true})
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return errors.New("the NATS server was not ready within 30 s")
	}
	fmt.Printf("nats listening %s\n", s.Addr())
	os.Stdout.Sync()
	<-sig
	s.Shutdown()
	s.WaitForShutdown()
	return nil
}
