package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/datadir"
	"github.com/os1ai/os1/internal/server"
)

func (e *env) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the os1 server (web UI, API, companion)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return e.serve(ctx, cfg)
		},
	}
	cmd.Flags().StringVar(&e.flags.LLMURL, "llm-url", "", "OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 (or $OS1_LLM_URL)")
	cmd.Flags().StringVar(&e.flags.LLMModel, "llm-model", "", "model name (or $OS1_LLM_MODEL)")
	return cmd
}

func newLogger(cfg config.Config, e *env) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
}

func (e *env) serve(ctx context.Context, cfg config.Config) error {
	log := newLogger(cfg, e)
	// One server per data dir: a second would mark the first's live
	// replies interrupted and race its memory worker.
	lock, err := datadir.Acquire(cfg.DataDir, "os1 serve")
	if err != nil {
		var busy *datadir.BusyError
		if errors.As(err, &busy) {
			return fmt.Errorf("%w; os1 serve needs the data dir to itself: stop that program first, or give this server another data dir with --data-dir", err)
		}
		return err
	}
	defer lock.Release()
	a, err := app.New(ctx, cfg, app.Options{Log: log, Version: Version})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		return err
	}
	setupURL, err := a.Server.Prepare(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another os1 running? choose another address with --addr or OS1_ADDR)", cfg.Addr, err)
	}
	hs := a.Server.HTTPServer(cfg.Addr)
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			hs.Close()
			return fmt.Errorf("listen for metrics on %s: %w (choose another metrics_addr)", cfg.MetricsAddr, err)
		}
		ms := &http.Server{Handler: a.Server.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- ms.Serve(mln) }()
		defer ms.Close()
		log.Info("metrics on their own listener", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	where := cfg.DataDir
	if cfg.Postgres() { // without the password
		where = fmt.Sprintf("PostgreSQL %s, secret key %s", cfg.DatabaseName(), cfg.KeyPath())
	}
	fmt.Fprintf(e.stdout, "os1 %s is listening on %s (data in %s)\n", Version, cfg.BaseURL(), where)
	if setupURL != "" {
		fmt.Fprintf(e.stdout, "\nWelcome! Open this one-time link to create the owner account:\n\n    %s\n\n", setupURL)
	}
	if a.Voice.Pipeline != nil {
		stt, tts := a.Voice.Pipeline.Engines()
		log.Info("voice calls ready", "stt", stt, "tts", tts)
		// The engines' resident processes start now, so the first turn of
		// the first call does not pay for loading them.
		go func() {
			if err := a.Warm(ctx); err != nil {
				log.Warn("a voice engine could not start its resident process; it runs once per request instead", "error", err)
			}
		}()
	} else {
		log.Warn("voice calls are off; text chat works", "why", a.Voice.Err)
	}
	// Look for a model after listening, so start-up stays fast.
	go func() {
		st := a.Models.Refresh(ctx)
		switch {
		case st.Connected && st.Reachable:
			log.Info("language model connected", "provider", st.Provider, "model", st.Model, "url", st.URL, "source", st.Source)
		case st.Connected:
			log.Warn("language model configured but not answering; chat says so until it does", "provider", st.Provider, "url", st.URL, "error", st.LastError, "details", st.LastErrorDetails)
		default:
			log.Warn("no language model connected yet; os1 runs, keeps looking every 10 s, and the web UI says how to connect one", "error", st.Error)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	a.Companion.Close() // interrupts running turns and stores their partial replies
	a.Server.CloseConnections()
	// A handler writing to a client that stopped reading gives up after
	// server.StreamWriteTimeout; the grace outlasts it, then what is left
	// is closed rather than waited for.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("connections still open after the grace period were closed", "grace", shutdownGrace, "err", err)
		_ = hs.Close()
	}
	return nil
}

// shutdownGrace is how long `os1 serve` lets requests finish when stopped.
const shutdownGrace = server.StreamWriteTimeout + 5*time.Second
