// Package app builds and owns a running os1: the stores, the language model
// manager, the sentence embedder and its cache, the memory service and its
// worker, the companion and its tools, the speech engines and the HTTP
// server, started, warmed and closed in order through small named
// interfaces (lifecycle.go).
//
// Each command builds only what it uses: New is the whole server (os1
// serve), NewTalk one voice turn without the memory worker or the HTTP
// server (os1 talk), OpenData the database and memory store alone (os1
// memory, os1 user). The package must never parse flags, read the
// environment or print to a terminal: the CLI does that and hands it a
// config.Config.
package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/os1ai/os1/internal/attach/sqliteattach"
	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/briefing"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/doctools"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/reindex"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/memory/worker"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/proofread"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/web"
	"github.com/os1ai/os1/internal/webpush"
)

// App is a wired os1. Fields a command did not build are nil.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	Clock     clock.Clock
	DB        DB // SQLite in the data dir, or PostgreSQL (database.go)
	Secrets   *secret.Box
	Metrics   *metrics.Metrics
	Models    *models.Manager
	MemStore  *sqlitemem.Store
	Embedder  memory.Embedder // nil: recall uses full text only
	Reindex   *Reindex        // the embedding model's identity and reindexing
	Recaller  *recall.Recaller
	Reranker  *recall.Reranker // recall re-ranked by the model; nil unless [memory] rerank = "model"
	Memory    *worker.Service  // the memory worker; nil in os1 talk
	Companion *companion.Companion
	Voice     *Voice
	Mail      *Mail              // nil in os1 talk
	Calendar  *Calendar          // the local calendar, CalDAV accounts and the calendar tools
	Push      *webpush.Notifier  // notifications to closed browsers; nil in os1 talk or without a VAPID key
	Reminders *Reminders         // the durable scheduler and reminders; its scheduler runs only in os1 serve
	Contacts  *contacts.Service  // the address book merged with memory's people; contacts_lookup (contacts.go)
	Documents *documents.Service // the writing desk and the documents_… tools (documents.go)
	Briefing  *briefing.Briefer  // meeting briefs, the morning briefing, the agenda slot, answered wake-ups (briefing.go)
	Server    *server.Server     // nil in os1 talk
	// Proactive is the messages she starts on her own: triggers, budget, log (proactive.go).
	Proactive *proactive.Service
	// Books are the user's letters made into books: EPUB, PDF, sent to a publisher (books.go).
	Books *books.Service
	// Cluster joins this node to the others through NATS; nil without
	// [cluster] nats_url (cluster.go).
	Cluster *Cluster

	lifecycle
}

// Options are what a command hands every constructor besides the config.
type Options struct {
	Log     *slog.Logger // nil: discard
	Version string       // the binary's version, which the server reports
	// PasswordCost is the argon2id cost of passwords the server hashes;
	// zero is auth.DefaultCost. Only tests of sign-in flows lower it.
	PasswordCost auth.Cost
}

// parts says what a command builds beyond the store and the companion.
type parts struct {
	worker bool // the memory worker (indexing, extraction, journal)
	server bool // the HTTP server
}

// New builds everything os1 serve runs. Start starts the memory worker;
// Close closes it all.
func New(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	return build(ctx, cfg, o, parts{worker: true, server: true})
}

// NewTalk builds one voice turn's worth of os1: the store, the model, the
// companion with memory recall, and the speech engines. It has no memory
// worker (a turn spoken here is indexed and extracted by the next os1
// serve's catch-up) and no HTTP server.
func NewTalk(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	return build(ctx, cfg, o, parts{})
}

func build(ctx context.Context, cfg config.Config, o Options, p parts) (a *App, err error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a = &App{Config: cfg, Log: log, Clock: clock.System{}}
	built := a // an error return below sets a to nil before this runs
	defer func() {
		if err != nil {
			built.Close()
			a = nil
		}
	}()
	if a.DB, err = OpenDB(ctx, cfg); err != nil {
		return nil, err
	}
	a.onClose(a.DB)
	if p.server && cfg.Clustered() { // cluster.go: events, cancel and memory jobs across nodes
		if a.Cluster, err = newCluster(ctx, cfg, log, a.Clock, a.DB); err != nil {
			return nil, err
		}
		a.onClose(a.Cluster)
		log = log.With("node", a.Cluster.Node)
		a.Log = log
	}
	if a.Secrets, err = OpenSecrets(ctx, cfg, a.DB); err != nil { // secretkey.go: the key every node shares
		return nil, err
	}
	proxies, err := cfg.ProxyPrefixes()
	if err != nil {
		return nil, err
	}
	a.Metrics = metrics.New()
	a.Models = NewModels(a.DB, a.Secrets, cfg, a.Clock)

	// Memory: recall index and items in the same database; the sentence
	// model loads in the background so start-up stays fast.
	a.MemStore = newMemStore(a.DB, a.Clock)
	var rawEmb memory.Embedder
	a.Embedder, rawEmb = lazyEmbedder(cfg, log, a.MemStore)
	a.Reindex = &Reindex{store: a.MemStore, emb: rawEmb, log: log,
		runner: reindex.NewRunner(a.MemStore, rawEmb, a.Clock, log.With("component", "memory"))}
	a.onClose(closeFunc(a.Reindex.runner.Close))
	a.Recaller = recall.New(a.MemStore, a.Embedder, a.Clock, recall.DefaultOptions())
	echoes := memory.NewEchoes()
	var listener companion.Listener
	memoryOn := cfg.Memory.Mode != "off" // [memory] mode = "off": no recall, no learning
	if !memoryOn {
		log.Info("memory is off: no recall in answers, nothing learned from conversations", "setting", "[memory] mode / OS1_MEMORY")
	}
	if p.worker && memoryOn {
		a.Memory = worker.New(worker.Deps{Core: a.DB, Memory: a.MemStore, Recall: a.Recaller, Models: a.Models,
			Embedder: a.Embedder, Echoes: echoes, Progress: a.MemStore.Progress(), Clock: a.Clock, Meter: a.Metrics,
			Log: log.With("component", "memory")},
			worker.Options{})
		a.onStart(startFunc(a.Reindex.startCheck))
		a.onStart(a.Memory)
		a.onClose(closeFunc(a.Memory.Close))
		listener = a.Cluster.listener(a.Memory) // the worker, or its jobs on the cluster's queue
		if a.Cluster != nil {
			a.onClose(closeFunc(a.Cluster.stopWork)) // before the worker closes
		}
	}

	tools := companion.NewRegistry()
	if a.Reminders, err = a.newReminders(log, tools, p.server); err != nil { // schedule.go
		return nil, err
	}
	if p.server { // mail syncs in the background: os1 serve's work, not a one-shot talk's
		if a.Mail, err = a.newMail(cfg, log, tools); err != nil {
			return nil, err
		}
	}
	if a.Calendar, err = a.newCalendar(log, tools, p.server); err != nil { // calendar.go
		return nil, err
	}
	if a.Contacts, err = a.newContacts(log, tools, p.server); err != nil { // contacts.go
		return nil, err
	}
	if a.Proactive, err = a.newProactive(log, tools, p.server); err != nil { // proactive.go
		return nil, err
	}
	if a.Documents, err = a.newDocuments(tools); err != nil { // documents.go
		return nil, err
	}
	if a.Books, err = a.newBooks(log, tools); err != nil { // books.go
		return nil, err
	}
	for _, t := range companion.BuiltinTools(a.DB) {
		if a.Mail != nil {
			t = a.Mail.Guard(t) // its approval names the emails the turn read
		}
		tools.Register(t)
	}
	// The prompt slot and the recall tool may ask the model to re-rank;
	// extraction, the memory page and the API keep the plain ranking.
	var searcher memory.Searcher = a.Recaller
	var prompt recall.PromptRecaller = a.Recaller
	if cfg.Memory.Rerank == "model" {
		a.Reranker = recall.NewReranker(a.Recaller, a.Models, a.Clock, recall.RerankOptions{
			Budget: cfg.Memory.RerankBudget.Duration, Meter: a.Metrics, Log: log.With("component", "memory")})
		searcher, prompt = a.Reranker, a.Reranker
	}
	recallTool := recall.NewTool(searcher, echoes)
	if a.Mail != nil {
		recallTool = a.Mail.Recall(recallTool) // says when emails match too
	}
	recallTool = doctools.Recall(recallTool, a.Documents) // lists the documents that match
	if memoryOn {
		tools.Register(recallTool)
	}
	if a.Briefing, err = a.newBriefing(log, tools); err != nil { // briefing.go
		return nil, err
	}
	slots := []companion.Slot{a.Briefing.AgendaSlot(), a.Briefing.WakeSlot(), a.Briefing.MeetingSlot()}
	if memoryOn {
		slots = append([]companion.Slot{warmRecall(recall.NewSlot(prompt, a.DB, echoes, recall.DefaultSlotBudget), a.Embedder, a.Clock)}, slots...)
	}
	a.Companion = companion.New(companion.Deps{Store: a.DB, Models: a.Models, Tools: tools, ToolsFor: a.toolsFor(tools), Listener: listener,
		Slots: slots,
		Clock: a.Clock, Observer: a.Metrics, Log: log, Events: a.Cluster.bus(), Attachments: sqliteattach.New(a.DB)}, companion.Options{
		ContextTokens:  cfg.Companion.ContextTokens,
		MaxReplyTokens: cfg.Companion.MaxReplyTokens,
		MaxToolRounds:  cfg.Companion.MaxToolRounds,
		// Titles from the model are background work of os1 serve, like
		// memory extraction; a one-shot talk turn keeps the first message.
		ModelTitles: p.server,
	})
	a.Briefing.Initiator = a.Companion // an answered wake-up speaks through it
	if err := a.Cluster.attach(a.Companion); err != nil {
		return nil, err
	}
	if a.Cluster != nil {
		a.onStart(a.Cluster)
	}
	if a.Proactive != nil {
		a.Proactive.Briefs = a.Briefing // a meeting notice speaks with the meeting's brief
	}
	if a.Memory != nil {
		// The worker is the companion's listener, so it is built first and
		// told about the companion now: what extraction changes reaches the
		// user's open pages as memory_changed. Its model calls wait while
		// a user's turn runs, so a small model server answers people first.
		a.Memory.SetOnChange(a.Companion.MemoryChanged)
		a.Memory.SetBusy(a.Companion.Busy)
	}
	if a.Mail != nil {
		// New mail and triage reach the user's open inboxes as mail_changed.
		comp := a.Companion
		a.Mail.Service.OnChange = func(userID string) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			comp.MailChanged(ctx, userID)
		}
	}
	// A reindex in the server's process waits the same way between batches.
	a.Reindex.runner.SetBusy(a.Companion.Busy)
	a.Voice = newVoice(cfg.Voice, a.Companion, a.DB, a.Metrics, log)
	for _, w := range a.Voice.warmers {
		a.onWarm(w)
	}
	for _, c := range a.Voice.closers {
		a.onClose(c)
	}
	// Closed first: it interrupts running turns and stores their partial replies.
	a.onClose(closeFunc(a.Companion.Close))
	if !p.server {
		return a, nil
	}
	a.Push = a.newPush(ctx, log)
	// The browser's voice activity model and runtime come from the cache
	// (scripts/assets.sh voice), never from a CDN.
	ui := http.NewServeMux()
	ui.Handle(web.VoiceAssetsPrefix, web.VoiceAssets(filepath.Join(cfg.CacheDir, "voice")))
	ui.Handle("/", web.Handler())
	a.Server = server.New(server.Deps{Store: a.Cluster.serverStore(a.DB), Companion: a.Companion, Models: a.Models, Metrics: a.Metrics, UI: ui,
		Memory: &server.Memory{Store: a.MemStore, Recaller: a.Recaller, Embedder: a.Embedder, Progress: a.MemStore.Progress(),
			Worker: a.Memory, Reindex: a.Reindex},
		Voice:          a.Voice.Pipeline,
		Attachments:    sqliteattach.New(a.DB),
		Mail:           a.Mail.Service,
		MailOAuth:      a.Mail.OAuth,
		MailBulk:       a.Mail.Bulk,
		Calendar:       a.Calendar.Service,
		Push:           a.Push,
		Reminders:      a.Reminders.Service,
		Proofreader:    &proofread.Proofreader{Models: a.Models, Log: log.With("component", "proofread")},
		Speller:        &proofread.Speller{}, // Debian's hunspell-en-us, read on first use
		Contacts:       a.Contacts,
		Documents:      a.Documents,
		Proactive:      a.Proactive,
		Books:          a.Books,
		Wakeups:        a.Briefing,
		ReminderEmail:  a, // reminder_mail.go
		PasswordCost:   o.PasswordCost,
		TrustedProxies: proxies, MetricsToken: cfg.MetricsToken, DeviceKey: a.Secrets.Derive("login device cookie"),
		Clock: a.Clock, Log: log, BaseURL: cfg.BaseURL(), Version: o.Version, Node: a.Cluster.node()})
	if err := a.Cluster.revocations(a.Server); err != nil { // cluster.go: sign-outs reach every node's sockets
		return nil, err
	}
	return a, nil
}

// Warm starts what makes the first request fast (the speech engines'
// resident processes) and returns what could not be warmed: those parts
// then work slower, per request, not worse.
func (a *App) Warm(ctx context.Context) error {
	var errs []error
	for _, w := range a.warmers {
		if err := w.Warm(ctx); err != nil && ctx.Err() == nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
