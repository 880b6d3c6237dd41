package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/config"
)

// testConfig is a test os1's configuration (app.ConfigForTest).
func testConfig(t *testing.T) config.Config { return app.ConfigForTest(t) }

// testConfigWith is testConfig plus the variables given as name, value pairs.
func testConfigWith(t *testing.T, kv ...string) config.Config { return app.ConfigForTest(t, kv...) }

func TestNewBuildsTheServerAndTheMemoryWorker(t *testing.T) {
	ctx := context.Background()
	a, err := app.New(ctx, testConfig(t), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Server == nil || a.Memory == nil || a.Companion == nil || a.DB == nil || a.Recaller == nil {
		t.Fatalf("New left parts out: server %v, worker %v, companion %v", a.Server != nil, a.Memory != nil, a.Companion != nil)
	}
	if err := a.Memory.Flush(ctx); err != nil {
		t.Fatalf("the started worker does not answer: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

// A voice turn must not start the memory worker (its catch-up reads every
// conversation) nor an HTTP server.
func TestNewTalkBuildsNoWorkerAndNoServer(t *testing.T) {
	ctx := context.Background()
	a, err := app.NewTalk(ctx, testConfig(t), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Memory != nil || a.Server != nil {
		t.Fatalf("NewTalk built the worker (%v) or the server (%v)", a.Memory != nil, a.Server != nil)
	}
	if a.Companion == nil || a.Voice == nil || a.Models == nil || a.Recaller == nil {
		t.Fatal("NewTalk left out the companion, voice, models or recall")
	}
	if a.Voice.Pipeline != nil || a.Voice.Err == nil {
		t.Fatal("voice is off in this config, and Voice should say why")
	}
}

func TestOpenDataNeedsADatabaseUnlessAskedToCreateIt(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	_, err := app.OpenData(ctx, cfg, false)
	var none *app.NoDatabaseError
	if !errors.As(err, &none) || none.Path != cfg.DBPath() {
		t.Fatalf("OpenData on an empty data dir: %v, want a NoDatabaseError for %s", err, cfg.DBPath())
	}
	d, err := app.OpenData(ctx, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	if d.DB == nil || d.Memory == nil {
		t.Fatal("OpenData left out the database or the memory store")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = app.OpenData(ctx, cfg, false)
	if err != nil {
		t.Fatalf("OpenData once the database exists: %v", err)
	}
	d.Close()
}
