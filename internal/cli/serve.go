package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/datadir"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/web"
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

// app is a wired os1: everything serve needs, also used by tests and benchmarks.
type app struct {
	cfg       config.Config
	db        *sqlite.DB
	models    *models.Manager
	companion *companion.Companion
	memory    *memory.Service
	server    *server.Server
	voice     *voiceWiring
	log       *slog.Logger
}

func build(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	db, err := sqlite.Open(ctx, cfg.DBPath())
	if err != nil {
		return nil, err
	}
	box, err := secret.LoadOrCreateKey(cfg.KeyPath())
	if err != nil {
		db.Close()
		return nil, err
	}
	clk := clock.System{}
	met := metrics.New()
	mm := models.NewManager(db, box, connector(cfg), checkConnection, clk)
	proxies, err := cfg.ProxyPrefixes()
	if err != nil {
		db.Close()
		return nil, err
	}

	// Memory: recall index and items in the same database; the sentence
	// model loads in the background so start-up stays fast.
	emb := loadEmbedder(cfg, log)
	mem := sqlitemem.New(db.SQL(), sqlitemem.Options{Clock: clk, Candidates: vectorCandidates})
	recaller := memory.NewRecaller(mem, emb, clk, memory.DefaultRecallOptions())
	echoes := memory.NewEchoes()
	memSvc := memory.NewService(memory.ServiceDeps{Core: db, Memory: mem, Recall: recaller, Models: mm, Embedder: emb,
		Echoes: echoes, Clock: clk, Meter: met, Log: log.With("component", "memory")}, memory.ServiceOptions{})

	tools := companion.NewRegistry()
	for _, t := range companion.BuiltinTools(db) {
		tools.Register(t)
	}
	tools.Register(memory.RecallTool(recaller, echoes))
	comp := companion.New(companion.Deps{Store: db, Models: mm, Tools: tools, Listener: memSvc,
		Slots: []companion.Slot{memory.NewSlot(recaller, db, echoes, memory.DefaultSlotBudget)},
		Clock: clk, Observer: met, Log: log}, companion.Options{
		ContextTokens:  cfg.Companion.ContextTokens,
		MaxReplyTokens: cfg.Companion.MaxReplyTokens,
		MaxToolRounds:  cfg.Companion.MaxToolRounds,
	})
	vw := wireVoice(cfg.Voice, comp, db, met, log)
	// The browser's voice activity model and runtime come from the cache
	// (scripts/assets.sh voice), never from a CDN.
	ui := http.NewServeMux()
	ui.Handle(web.VoiceAssetsPrefix, web.VoiceAssets(filepath.Join(cfg.CacheDir, "voice")))
	ui.Handle("/", web.Handler())
	srv := server.New(server.Deps{Store: db, Companion: comp, Models: mm, Metrics: met, UI: ui,
		Memory:         &server.Memory{Store: mem, Recaller: recaller, Embedder: emb, Worker: memSvc},
		Voice:          vw.pipeline,
		TrustedProxies: proxies, MetricsToken: cfg.MetricsToken, DeviceKey: box.Derive("login device cookie"),
		Clock: clk, Log: log, BaseURL: cfg.BaseURL(), Version: Version})
	return &app{cfg: cfg, db: db, models: mm, companion: comp, memory: memSvc, server: srv, voice: vw, log: log}, nil
}

func (a *app) close() {
	a.companion.Close()
	a.voice.close()
	a.memory.Close()
	a.db.Close()
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
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	setupURL, err := a.server.Prepare(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another os1 running? choose another address with --addr or OS1_ADDR)", cfg.Addr, err)
	}
	hs := a.server.HTTPServer(cfg.Addr)
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			hs.Close()
			return fmt.Errorf("listen for metrics on %s: %w (choose another metrics_addr)", cfg.MetricsAddr, err)
		}
		ms := &http.Server{Handler: a.server.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- ms.Serve(mln) }()
		defer ms.Close()
		log.Info("metrics on their own listener", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	fmt.Fprintf(e.stdout, "os1 %s is listening on %s (data in %s)\n", Version, cfg.BaseURL(), cfg.DataDir)
	if setupURL != "" {
		fmt.Fprintf(e.stdout, "\nWelcome! Open this one-time link to create the owner account:\n\n    %s\n\n", setupURL)
	}
	if a.voice.pipeline != nil {
		stt, tts := a.voice.pipeline.Engines()
		log.Info("voice calls ready", "stt", stt, "tts", tts)
		go a.voice.warm(ctx, log)
	} else {
		log.Warn("voice calls are off; text chat works", "why", a.voice.err)
	}
	// Look for a model after listening, so start-up stays fast.
	go func() {
		st := a.models.Refresh(ctx)
		if st.Connected {
			log.Info("language model connected", "provider", st.Provider, "model", st.Model, "url", st.URL, "source", st.Source)
		} else {
			log.Warn("no language model connected yet; os1 runs, keeps looking every 10 s, and the web UI says how to connect one", "error", st.Error)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	a.companion.Close() // interrupts running turns and stores their partial replies
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
