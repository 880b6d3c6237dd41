// Package companion is the heart of os1: the persona and first meeting, the
// system prompt, and the turn loop that stores the user's message, streams
// the model's reply, and runs tools, asking the user before any tool with
// side effects.
//
// It must never invent a reply: every word of an assistant message comes
// from a model provider. It must never lose a user's message: the message is
// stored before anything that can fail, and a reply that is cut off keeps
// what was said, marked interrupted.
package companion

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/events"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// Store is the storage the companion needs.
type Store interface {
	UserByID(ctx context.Context, id string) (store.User, error)
	store.Conversations
	store.Messages
	store.Personas
	store.Profiles
	store.Actions
}

// Models hands out the currently connected model. It returns an error
// wrapping llm.ErrNoProvider, with instructions, when none is connected.
type Models interface {
	Provider(ctx context.Context) (llm.Provider, error)
}

// Listener hears about stored turns, for work that follows a conversation
// (indexing messages for recall, extracting memories). TurnStored is called
// after every turn, whatever its outcome, from the turn's goroutine; it must
// return quickly and must not fail the turn. Delivery is at most once: a
// listener that needs every message must also catch up on start-up.
type Listener interface {
	TurnStored(userID, conversationID string)
}

// Reviser is a Listener that also hears when a stored message's text was
// changed after its turn (KeepHeard), with the same delivery rules.
type Reviser interface {
	MessageRevised(userID, conversationID, messageID string)
}

// Observer receives measurements (implemented by the metrics package).
type Observer interface {
	TurnFinished(outcome string, d time.Duration)
	FirstToken(provider string, d time.Duration)
	Error(kind string)
}

// Sentinel errors for callers (the server maps them to HTTP statuses).
var (
	ErrBusy         = errors.New("a reply is already being written in this conversation")
	ErrEmptyMessage = errors.New("message is empty")
	ErrInvalidUTF8  = errors.New("message is not valid UTF-8")
	ErrNUL          = errors.New("message contains a NUL character")
	ErrNothingToDo  = errors.New("there is no message to answer")
	ErrNotOnboarded = errors.New("finish the first meeting before choosing a name")
	ErrShuttingDown = errors.New("the server is shutting down; try again when it is back")
	ErrTitleTooLong = errors.New("title must be at most 200 characters")
	ErrNoReason     = errors.New("a turn os1 starts itself needs a reason")
)

// MaxTitleRunes bounds a conversation title.
const MaxTitleRunes = 200

// Options tune the companion.
type Options struct {
	ContextTokens  int           // prompt budget (default 8000)
	MaxReplyTokens int           // per reply (default 1024)
	MaxToolRounds  int           // tool rounds per turn (default 4)
	FlushEvery     time.Duration // how often streamed text is saved (default DefaultFlushEvery)
	SlotTimeout    time.Duration // how long one prompt slot may take (default 2s)
	// Delivery bounds what a slow reader costs (internal/events). Zero
	// limits are the bus's defaults, except that the stream of a turn's own
	// caller holds a whole turn's deltas (MaxReplyTokens × MaxToolRounds)
	// before it drops any: a voice call that speaks slower than the model
	// writes still hears every word, and the turn still never waits.
	Delivery events.Limits
	// ModelTitles asks the model for a conversation's title after its
	// first exchange (titles.go); off, the first message stays the title.
	ModelTitles bool
}

// Companion runs conversations for every user of the server.
type Companion struct {
	store    Store
	models   Models
	tools    *Registry
	toolsFor func(ctx context.Context, userID string) (*Registry, error)
	bus      events.Bus[Event]
	slots    []Slot
	listener Listener
	clock    clock.Clock
	ids      clock.IDs
	observer Observer
	log      *slog.Logger
	opts     Options
	turnLim  events.Limits // Delivery for a turn's own caller

	base     context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	inFlight map[string]context.CancelFunc // conversation ID -> cancel
	ctxBook  contextBook                   // models' context windows (context.go)
	titles   titleState
	attach   Attachments // nil: messages cannot carry files

	remoteCancel atomic.Pointer[RemoteCancel]  // SetRemoteCancel; nil: this process only
	claims       atomic.Pointer[turnClaimsBox] // SetTurnClaims; nil: this process only
}

// TurnClaims says which conversations have a turn running on any process of
// a cluster (internal/cluster's Turns, through internal/app). Claim takes a
// conversation's turn for this process and returns ErrBusy when another
// holds it; any other error means it could not be known.
type TurnClaims interface {
	Claim(ctx context.Context, userID, conversationID string) (release func(), err error)
	Held(ctx context.Context, userID, conversationID string) (bool, error)
}

type turnClaimsBox struct{ TurnClaims }

// claimWait bounds asking the cluster for a conversation's turn; past it
// the turn runs under this process's own lock only (logged).
const claimWait = 2 * time.Second

// Deps are the companion's collaborators.
type Deps struct {
	Store  Store
	Models Models
	Tools  *Registry // nil: the built-in tools
	// ToolsFor gives a user their own tool set; nil: Tools for everyone.
	ToolsFor func(ctx context.Context, userID string) (*Registry, error)
	// Events carries every user's events to their subscribers; nil: an
	// in-process bus (NewBus).
	Events   events.Bus[Event]
	Slots    []Slot
	Listener Listener    // nil: none
	Clock    clock.Clock // nil: system clock
	IDs      clock.IDs   // nil: random IDs (clock.RandomIDs)
	Observer Observer    // nil: no metrics
	Log      *slog.Logger
	// Attachments stores files sent with messages; nil: none are taken.
	Attachments Attachments
}

// DefaultFlushEvery is how often a reply's streamed text is saved while it
// streams: a crash loses at most this much of it (the user's message is
// stored before the model is called, and the finished reply is saved at
// once). At 250 ms a 5 s reply took about 20 writes; under load those
// writes were 8% of os1's CPU and queued recall behind them (issue 15).
const DefaultFlushEvery = time.Second

// New returns a companion. Call Close to stop running turns.
func New(d Deps, o Options) *Companion {
	if o.ContextTokens == 0 {
		o.ContextTokens = 8000
	}
	if o.MaxReplyTokens == 0 {
		o.MaxReplyTokens = 1024
	}
	if o.MaxToolRounds == 0 {
		o.MaxToolRounds = 4
	}
	if o.FlushEvery == 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.SlotTimeout == 0 {
		o.SlotTimeout = 2 * time.Second
	}
	if d.Events == nil {
		d.Events = NewBus(o.Delivery)
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.IDs == nil {
		d.IDs = clock.RandomIDs{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Observer == nil {
		d.Observer = nopObserver{}
	}
	if d.Tools == nil {
		d.Tools = NewRegistry()
		if err := d.Tools.Register(BuiltinTools(d.Store)...); err != nil {
			panic(err) // the built-in tools are fixed: a clash is a bug in this package
		}
	}
	turnLim := o.Delivery
	if turnLim.Lossy == 0 {
		turnLim.Lossy = max(256, o.MaxReplyTokens*o.MaxToolRounds)
	}
	base, stop := context.WithCancel(context.Background())
	return &Companion{turnLim: turnLim, store: d.Store, models: d.Models, tools: d.Tools, toolsFor: d.ToolsFor, bus: d.Events, slots: d.Slots, listener: d.Listener, clock: d.Clock, ids: d.IDs,
		observer: d.Observer, log: d.Log, opts: o, base: base, stop: stop, inFlight: map[string]context.CancelFunc{}, attach: d.Attachments}
}

// Close interrupts every running turn and waits until each has stored its
// partial reply.
func (c *Companion) Close() {
	c.stop()
	c.wg.Wait()
}

// Tools returns the registry (for listing in the UI).
func (c *Companion) Tools() *Registry { return c.tools }

// ToolsFor returns the tools offered to one user.
func (c *Companion) ToolsFor(ctx context.Context, userID string) (*Registry, error) {
	if c.toolsFor == nil {
		return c.tools, nil
	}
	r, err := c.toolsFor(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("tools of user %s: %w", userID, err)
	}
	return r, nil
}

// DescribeAction is the confirmation card's text for a stored action, by
// the tools of the action's user (Registry.Describe).
func (c *Companion) DescribeAction(ctx context.Context, a store.Action) string {
	tools, err := c.ToolsFor(ctx, a.UserID)
	if err != nil {
		tools = c.tools
	}
	return tools.Describe(ctx, a)
}

// Subscribe follows every event of userID (turns wherever they started,
// tool approvals, memory changes) until ctx ends or the caller stops
// ranging. Delivery is that of Event.
func (c *Companion) Subscribe(ctx context.Context, userID string) iter.Seq[Event] {
	return c.bus.Subscribe(ctx, userID)
}

// Publish hands an event to userID's subscribers (for collaborators that
// change what a user sees: memory, later reminders). It never blocks for
// long; see Event.
func (c *Companion) Publish(ctx context.Context, userID string, ev Event) {
	c.bus.Publish(ctx, userID, ev)
}

// MemoryChanged tells the user's subscribers that memory items changed; the
// memory service can be given it as its change hook.
func (c *Companion) MemoryChanged(ctx context.Context, userID string, itemIDs ...string) {
	c.bus.Publish(ctx, userID, Event{Type: EvMemoryChanged, ItemIDs: itemIDs})
}

// MailChanged tells the user's subscribers that their mail changed (a sync
// brought new mail, triage ran), so open inboxes reload.
func (c *Companion) MailChanged(ctx context.Context, userID string) {
	c.bus.Publish(ctx, userID, Event{Type: EvMailChanged})
}

// CreateConversation starts an empty conversation for userID. The title is
// cleaned (textsafe.CleanTitle); empty means "New conversation". ErrTitleTooLong
// when it is over MaxTitleRunes.
func (c *Companion) CreateConversation(ctx context.Context, userID, title string) (store.Conversation, error) {
	title = textsafe.CleanTitle(title)
	if len([]rune(title)) > MaxTitleRunes {
		return store.Conversation{}, ErrTitleTooLong
	}
	if title == "" {
		title = "New conversation"
	}
	now := c.clock.Now()
	conv := store.Conversation{ID: c.ids.NewID("cnv_"), UserID: userID, Title: title, CreatedAt: now, UpdatedAt: now}
	if err := c.store.CreateConversation(ctx, conv); err != nil {
		return store.Conversation{}, fmt.Errorf("create conversation for user %s: %w", userID, err)
	}
	return conv, nil
}

type nopObserver struct{}

func (nopObserver) TurnFinished(string, time.Duration) {}
func (nopObserver) FirstToken(string, time.Duration)   {}
func (nopObserver) Error(string)                       {}

// ValidateText checks a user's message before it is stored.
func ValidateText(text string) error {
	if !utf8.ValidString(text) {
		return ErrInvalidUTF8
	}
	if strings.TrimSpace(text) == "" {
		return ErrEmptyMessage
	}
	if strings.IndexByte(text, 0) >= 0 {
		return ErrNUL
	}
	return nil
}

// Send stores the user's message in conversationID (a new conversation when
// empty) and starts a turn. Errors returned here happen before anything is
// stored; everything after is reported as events. The caller must range over
// the returned stream (it may stop early; the turn goes on and is stored).
// opts (at most one) says where the turn happens (SendOptions.Channel).
func (c *Companion) Send(ctx context.Context, userID, conversationID, text string, opts ...SendOptions) (iter.Seq[Event], error) {
	o := sendOptions(opts)
	if err := c.validateSend(text, o.Files); err != nil {
		return nil, err
	}
	c.warmSlots(text)
	var conv store.Conversation
	var err error
	if conversationID == "" {
		if conv, err = c.CreateConversation(ctx, userID, titleFrom(text)); err != nil {
			return nil, err
		}
	} else if conv, err = c.store.Conversation(ctx, userID, conversationID); err != nil {
		return nil, err
	}
	t, err := c.begin(conv)
	if err != nil {
		return nil, err
	}
	// The prompt's preamble, recall included, starts before the message is
	// stored: storing it and reading the history overlap the embedding.
	t.early = c.startPreamble(t.ctx, userID, text)
	t.model = &conv.Model
	c.supersedePending(ctx, userID, conv.ID)
	msg := store.Message{ID: c.ids.NewID("msg_"), ConversationID: conv.ID, UserID: userID, Role: store.RoleUser,
		Content: text, Status: store.StatusComplete, Channel: validChannel(o.Channel), CreatedAt: c.clock.Now(), UpdatedAt: c.clock.Now()}
	atts, err := c.appendUserMessage(ctx, msg, o.Files)
	if err != nil {
		t.abandon()
		return nil, fmt.Errorf("store message: %w", err)
	}
	t.latest = text
	t.channel = msg.Channel
	go t.run(func(ctx context.Context) {
		t.emit(Event{Type: EvConversation, Conversation: &conv})
		t.emit(Event{Type: EvUserMessage, Message: &msg, Attachments: atts})
		c.respond(ctx, t, userID, conv.ID)
	})
	return t.events(), nil
}

// MaxReasonChars bounds the reason stored on a turn os1 starts itself
// (imports obey the same limit).
const MaxReasonChars = 500

// ErrReasonTooLong: Initiate's reason is over MaxReasonChars.
var ErrReasonTooLong = errors.New("reason too long")

// Initiate starts a turn without user text: os1 speaks first, for a
// reminder or a proactive message. reason says why, in words for the model
// and the user; it is stored on the reply (Message.Reason). conversationID
// empty starts a new conversation titled from reason. The stream and its
// delivery are those of Send, and the turn is published to the user's
// subscribers like any other.
func (c *Companion) Initiate(ctx context.Context, userID, conversationID, reason string) (iter.Seq[Event], error) {
	if err := ValidateText(reason); err != nil && !errors.Is(err, ErrEmptyMessage) {
		return nil, fmt.Errorf("reason: %w", err)
	}
	reason = textsafe.CleanTitle(reason) // one line, no hidden characters: it is shown to the user
	if reason == "" {
		return nil, ErrNoReason
	}
	if n := utf8.RuneCountInString(reason); n > MaxReasonChars {
		return nil, fmt.Errorf("reason is %d characters; the limit is %d: %w", n, MaxReasonChars, ErrReasonTooLong)
	}
	var conv store.Conversation
	var err error
	if conversationID == "" {
		if conv, err = c.CreateConversation(ctx, userID, titleFrom(reason)); err != nil {
			return nil, err
		}
	} else if conv, err = c.store.Conversation(ctx, userID, conversationID); err != nil {
		return nil, err
	}
	t, err := c.begin(conv)
	if err != nil {
		return nil, err
	}
	t.reason = reason
	go t.run(func(ctx context.Context) {
		t.emit(Event{Type: EvConversation, Conversation: &conv})
		c.respond(ctx, t, userID, conv.ID)
	})
	return t.events(), nil
}

// Retry answers the conversation's history again, typically after a failed turn.
func (c *Companion) Retry(ctx context.Context, userID, conversationID string) (iter.Seq[Event], error) {
	conv, err := c.store.Conversation(ctx, userID, conversationID)
	if err != nil {
		return nil, err
	}
	msgs, err := c.store.Messages(ctx, userID, conversationID)
	if err != nil {
		return nil, err
	}
	hasUser := false
	for _, m := range msgs {
		hasUser = hasUser || m.Role == store.RoleUser
	}
	if !hasUser {
		return nil, ErrNothingToDo
	}
	t, err := c.begin(conv)
	if err != nil {
		return nil, err
	}
	go t.run(func(ctx context.Context) {
		t.emit(Event{Type: EvConversation, Conversation: &conv})
		c.respond(ctx, t, userID, conv.ID)
	})
	return t.events(), nil
}

// Cancel stops the running turn in a conversation, if any. The partial reply
// is kept and marked interrupted. It reports whether a turn was running.
// On a cluster (SetRemoteCancel) a turn running on another node is stopped
// too.
func (c *Companion) Cancel(ctx context.Context, userID, conversationID string) (bool, error) {
	ok, err := c.CancelLocal(ctx, userID, conversationID)
	if err != nil || ok {
		return ok, err
	}
	if f := c.remoteCancel.Load(); f != nil {
		return (*f)(ctx, userID, conversationID)
	}
	return false, nil
}

// CancelLocal is Cancel for a turn running in this process only: what a
// cluster node answers when another node asks it to cancel.
func (c *Companion) CancelLocal(ctx context.Context, userID, conversationID string) (bool, error) {
	if _, err := c.store.Conversation(ctx, userID, conversationID); err != nil {
		return false, err
	}
	c.mu.Lock()
	cancel, ok := c.inFlight[conversationID]
	c.mu.Unlock()
	if ok {
		cancel()
	}
	return ok, nil
}

// RemoteCancel stops a conversation's turn running on another node
// (cluster.CancelService.Remote); the conversation is the user's.
type RemoteCancel func(ctx context.Context, userID, conversationID string) (bool, error)

// SetRemoteCancel makes Cancel (the cancel endpoint, a WebSocket cancel, a
// barge-in) reach turns running on other nodes; nil: this process only.
func (c *Companion) SetRemoteCancel(f RemoteCancel) {
	if f == nil {
		c.remoteCancel.Store(nil)
		return
	}
	c.remoteCancel.Store(&f)
}

// SetTurnClaims makes a turn claim its conversation across the cluster
// before it starts, so two messages sent to one conversation on two nodes at
// once start one turn (the second gets ErrBusy), and RunningAnywhere answers
// for every node; nil: this process only.
func (c *Companion) SetTurnClaims(tc TurnClaims) {
	if tc == nil {
		c.claims.Store(nil)
		return
	}
	c.claims.Store(&turnClaimsBox{tc})
}

// Running reports whether a turn is in flight in the conversation in this
// process.
func (c *Companion) Running(conversationID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.inFlight[conversationID]
	return ok
}

// RunningAnywhere reports whether a turn is in flight in the conversation
// here or, on a cluster (SetTurnClaims), on any node. When the cluster
// cannot say, it answers for this process.
func (c *Companion) RunningAnywhere(ctx context.Context, userID, conversationID string) bool {
	if c.Running(conversationID) {
		return true
	}
	box := c.claims.Load()
	if box == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, claimWait)
	defer cancel()
	held, err := box.Held(ctx, userID, conversationID)
	if err != nil {
		c.log.Warn("cluster: is a turn running? unknown; answering for this node", "conversation", conversationID, "err", err)
		return false
	}
	return held
}

func titleFrom(text string) string {
	line := textsafe.CleanTitle(strings.SplitN(strings.TrimSpace(text), "\n", 2)[0])
	if r := []rune(line); len(r) > 60 {
		line = strings.TrimSpace(string(r[:60])) + "…"
	}
	if line == "" {
		line = "New conversation"
	}
	return line
}

// turn is one running exchange. Its events go to the caller that started it
// (a queue with the delivery of Event: the caller may read slowly, stall or
// leave, and the turn goes on) and to the user's bus.
type turn struct {
	c      *Companion
	userID string
	convID string
	latest string // the user's new message, when the turn began with one
	reason string // why os1 spoke first (Initiate); stored on the reply
	parent string // the message the turn's first reply answers (Regenerate); "" after the head
	ctx    context.Context
	cancel context.CancelFunc
	q      *events.Queue[Event]
	start  time.Time
	reply  atomic.Pointer[string] // the assistant message being streamed, once stored
	claim  func()                 // gives the conversation's cluster claim back; nil without one

	channel string // SendOptions.Channel: asks for the spoken register, stored on the reply

	early     <-chan preamble // started by Send for the first round
	model     *string         // the conversation's model as Send read it, for the first round
	pastFirst bool            // the history held more than one user message: no title to write
}

// begin takes the conversation's turn: this process's lock, then, on a
// cluster, the conversation's claim across nodes.
func (c *Companion) begin(conv store.Conversation) (*turn, error) {
	t, err := c.beginLocal(conv)
	if err != nil {
		return nil, err
	}
	box := c.claims.Load()
	if box == nil {
		return t, nil
	}
	ctx, cancel := context.WithTimeout(t.ctx, claimWait)
	release, err := box.Claim(ctx, conv.UserID, conv.ID)
	cancel()
	switch {
	case errors.Is(err, ErrBusy):
		t.abandon()
		return nil, ErrBusy
	case err != nil:
		c.log.Warn("cluster: the turn is not claimed across nodes; only this node's lock holds it", "conversation", conv.ID, "err", err)
	default:
		t.claim = release
	}
	return t, nil
}

func (c *Companion) beginLocal(conv store.Conversation) (*turn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, busy := c.inFlight[conv.ID]; busy {
		return nil, ErrBusy
	}
	if c.base.Err() != nil {
		return nil, ErrShuttingDown
	}
	ctx, cancel := context.WithCancel(c.base)
	c.inFlight[conv.ID] = cancel
	c.wg.Add(1)
	q := events.NewQueue(classify, c.turnLim)
	q.Coalesce(deltasJoin, joinDeltas)
	return &turn{c: c, userID: conv.UserID, convID: conv.ID, ctx: ctx, cancel: cancel,
		q: q, start: c.clock.Now()}, nil
}

// abandon releases a turn that never started.
func (t *turn) abandon() {
	if t.claim != nil {
		t.claim()
	}
	t.c.mu.Lock()
	delete(t.c.inFlight, t.convID)
	t.c.mu.Unlock()
	t.cancel()
	t.q.Close()
	t.c.wg.Done()
}

// run runs the turn's work. A panic anywhere in it is recovered, logged and
// reported to the user, and the reply it left streaming is marked failed:
// one bad turn must never take the server, or other users' turns, down.
func (t *turn) run(f func(ctx context.Context)) {
	defer func() {
		if t.c.listener != nil {
			t.c.safely("memory listener", func() { t.c.listener.TurnStored(t.userID, t.convID) })
		}
		if !t.pastFirst {
			t.c.titleAfterTurn(t.userID, t.convID)
		}
		// The turn lock is released before turn_done goes out, so a
		// client may start the next turn (a queued message) as soon as it
		// hears it, on any node.
		if t.claim != nil {
			t.claim()
		}
		t.c.mu.Lock()
		delete(t.c.inFlight, t.convID)
		t.c.mu.Unlock()
		t.emit(Event{Type: EvTurnDone, ConversationID: t.convID})
		t.cancel()
		t.q.Close()
		t.c.wg.Done()
	}()
	if !t.c.safely("turn", func() { f(t.ctx) }) {
		t.failAfterPanic()
	}
}

// safely runs f, recovering a panic: it logs what and the stack, counts
// the error and reports false.
func (c *Companion) safely(what string, f func()) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error(what+" panicked; recovered", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.observer.Error("panic")
			ok = false
		}
	}()
	f()
	return true
}

// failAfterPanic stores the reply a panicked turn left streaming as failed
// and tells the user, in words, that their message is safe.
func (t *turn) failAfterPanic() {
	const why = "Something went wrong inside os1 while answering (the server log has details). Your message is saved; press Retry."
	if id := t.reply.Load(); id != nil {
		status, msg := store.StatusFailed, why
		if err := t.c.store.UpdateMessage(context.WithoutCancel(t.ctx), t.userID, *id, store.MessagePatch{Status: &status, Error: &msg}, t.c.clock.Now()); err != nil {
			t.c.log.Error("mark reply failed after a panic", "message", *id, "err", err)
		}
	}
	t.emit(Event{Type: EvError, Err: &TurnError{Code: CodeInternal, Message: why}})
}

// emit hands ev to the turn's caller and to the user's subscribers. It
// never waits for a reader beyond the bounds of internal/events, and never
// past the turn's context.
func (t *turn) emit(ev Event) {
	if ev.ConversationID == "" {
		ev.ConversationID = t.convID
	}
	t.q.Push(t.ctx, ev)
	t.c.bus.Publish(t.ctx, t.userID, ev)
}

// events is the caller's stream: it ends with the turn, or when the caller
// stops ranging (the turn goes on).
func (t *turn) events() iter.Seq[Event] { return t.q.Events(context.Background()) }
