package companion

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// respond runs model rounds until the model stops, needs consent, fails, or
// the round limit is reached.
func (c *Companion) respond(ctx context.Context, t *turn, userID, convID string) {
	outcome := "complete"
	defer func() { c.observer.TurnFinished(outcome, c.clock.Now().Sub(t.start)) }()

	prov, err := c.models.Provider(ctx)
	if err != nil {
		outcome = "no_model"
		c.observer.Error("no_model")
		c.failWithoutModel(ctx, t, userID, convID, err)
		return
	}
	// The model's context window is learned in the background (probe) and
	// read by request (promptBudget).
	key := modelKey(prov, llm.Request{})
	c.probe(prov, key)
	ctx = context.WithValue(ctx, modelKeyCtx{}, key)
	for round := 0; ; round++ {
		if round >= c.opts.MaxToolRounds {
			outcome = "tool_limit"
			t.emit(Event{Type: EvError, Err: &TurnError{Code: CodeToolError,
				Message: fmt.Sprintf("Stopped after %d rounds of tool calls in one turn.", c.opts.MaxToolRounds)}})
			return
		}
		hint, early := "", (<-chan preamble)(nil)
		if round == 0 {
			hint, early = t.latest, t.early
		}
		req, tools, users, err := c.request(ctx, userID, convID, early, hint, t.reason, t.channel, t.parent)
		if round == 0 && users > 1 {
			t.pastFirst = true // no title to write after this turn (titles.go)
		}
		if err != nil {
			outcome = "error"
			c.observer.Error("store")
			t.emit(Event{Type: EvError, Err: &TurnError{Code: CodeInternal, Message: "Could not load the conversation.", Details: err.Error()}})
			return
		}
		if round == 0 && t.model != nil {
			req.Model = *t.model // read by Send a moment ago
		} else {
			req.Model = c.conversationModel(ctx, userID, convID) // the owner's pick; "" = the server's
		}
		msg, calls, status := c.stream(ctx, t, prov, req, userID, convID)
		if status != store.StatusComplete {
			outcome = string(status)
			return
		}
		if len(calls) == 0 {
			return
		}
		if waiting := c.runTools(ctx, t, tools, userID, convID, msg, calls); waiting {
			outcome = "awaiting_confirmation"
			return
		}
	}
}

// preamble is what a prompt needs besides the conversation: the user, their
// profile, persona and tools, and the slots (memory recall: an embedding and
// a search) when the latest message is known.
type preamble struct {
	profile  store.Profile
	user     store.User
	persona  store.Persona
	tools    *Registry
	llmTools []llm.Tool // tools as the model sees them
	toolToks int        // their estimated tokens
	now      time.Time
	loc      *time.Location
	slots    <-chan []slotText // nil when latest was unknown
	err      error
}

// startPreamble reads the preamble in the background. Send starts it
// before storing the user's message, so recall runs while the message is
// stored and the conversation is read; request starts it otherwise.
func (c *Companion) startPreamble(ctx context.Context, userID, latest string) <-chan preamble {
	out := make(chan preamble, 1)
	go func() {
		var p preamble
		defer func() { out <- p }()
		ok := c.safely("prompt preamble", func() {
			profile, err := c.store.Profile(ctx, userID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				p.err = err
				return
			}
			p.profile, p.now, p.loc = profile, c.clock.Now(), profile.Location()
			if latest != "" {
				p.slots = c.fillSlots(ctx, SlotInput{UserID: userID, Latest: latest, Now: p.now, Location: p.loc})
			}
			if p.user, p.err = c.store.UserByID(ctx, userID); p.err != nil {
				return
			}
			if p.persona, err = c.store.Persona(ctx, userID); err != nil && !errors.Is(err, store.ErrNotFound) {
				p.err = err
				return
			}
			if p.tools, p.err = c.ToolsFor(ctx, userID); p.err == nil {
				p.llmTools = p.tools.LLMTools()
				p.toolToks = toolTokens(p.llmTools)
			}
		})
		if !ok {
			p.err = errors.New("reading the prompt's preamble panicked") // logged by safely
		}
	}()
	return out
}

// request builds the model request from the stored conversation, with the
// user's tools. early is the turn's preamble when Send started it (else
// nil); reason is set when os1 speaks first (Initiate); upTo when the reply
// answers an earlier message (Regenerate, branches.go). users is how many
// user messages the history read holds.
func (c *Companion) request(ctx context.Context, userID, convID string, early <-chan preamble, latestHint, reason, channel, upTo string) (req llm.Request, tools *Registry, users int, err error) {
	pre := early
	if pre == nil {
		pre = c.startPreamble(ctx, userID, latestHint)
	}
	// The prompt holds at most the last historyWindow messages (within the
	// token budget); older ones stay stored, for recall by later subsystems.
	// The history is read while the preamble is.
	msgs, herr := c.history(ctx, userID, convID, upTo)
	var listed <-chan attachList
	if herr == nil {
		listed = c.listAttachments(ctx, userID, msgs) // while the slots finish
	}
	p := <-pre
	if err := cmp.Or(p.err, herr); err != nil {
		return llm.Request{}, nil, 0, err
	}
	latest := ""
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == store.RoleUser {
			if latest == "" {
				latest = msgs[i].Content
			}
			users++
		}
	}
	in := promptInput{Persona: p.persona, User: p.user, Profile: p.profile, Now: p.now, Loc: p.loc, Reason: reason, Channel: channel}
	if p.slots == nil {
		p.slots = c.fillSlots(ctx, SlotInput{UserID: userID, Latest: latest, Now: p.now, Location: p.loc})
	}
	in.Slots = <-p.slots
	system := systemPrompt(in)
	budget := c.promptBudget(ctx, system, p.toolToks)
	history, _ := c.historyWithAttachments(ctx, userID, msgs, budget, listed)
	if reason != "" && (len(history) == 0 || history[len(history)-1].Role != llm.RoleUser) {
		// Providers expect the model to answer a user turn; this one says
		// that nobody spoke, and is never stored.
		history = append(history, llm.Message{Role: llm.RoleUser, Content: "(No message from the user: you are speaking first, because: " + reason + ")"})
	}
	return llm.Request{System: system, Messages: history, Tools: p.llmTools, MaxTokens: c.opts.MaxReplyTokens}, p.tools, users, nil
}

// fillSlots asks every slot for its section, all at once, each within
// SlotTimeout; the channel delivers them in slot order. A slot that is late
// or fails is left out with a log line: the reply never waits for it.
func (c *Companion) fillSlots(ctx context.Context, in SlotInput) <-chan []slotText {
	out := make(chan []slotText, 1)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, c.opts.SlotTimeout)
		defer cancel()
		type result struct {
			text string
			err  error
			ok   bool
		}
		results := make([]chan result, len(c.slots))
		for i, s := range c.slots {
			results[i] = make(chan result, 1) // the slot never blocks, even when skipped
			go func() {
				var r result
				r.ok = c.safely("prompt slot "+s.SlotName(), func() { r.text, r.err = askSlot(sctx, s, in) })
				results[i] <- r
			}()
		}
		var filled []slotText
		for i, s := range c.slots {
			var r result
			select {
			case r = <-results[i]:
			case <-sctx.Done():
				// Past the deadline, a slot that has answered still counts
				// (select would pick at random between the two).
				select {
				case r = <-results[i]:
				default:
					c.log.Warn("prompt slot skipped: too slow", "slot", s.SlotName(), "limit", c.opts.SlotTimeout)
					continue
				}
			}
			switch {
			case !r.ok:
				continue // logged; the prompt goes without this section
			case r.err != nil:
				c.log.Warn("prompt slot failed", "slot", s.SlotName(), "err", r.err)
			case strings.TrimSpace(r.text) != "":
				filled = append(filled, slotText{Name: s.SlotName(), Text: r.text})
			}
		}
		out <- filled
	}()
	return out
}

// historyWindow caps the messages read for one prompt: reading and scanning
// rows is the largest part of os1's own per-turn cost.
const historyWindow = 100

// stream runs one model call into a new assistant message.
func (c *Companion) stream(ctx context.Context, t *turn, prov llm.Provider, req llm.Request, userID, convID string) (store.Message, []llm.ToolCall, store.MessageStatus) {
	// The model is asked first; storing the (still empty) assistant message
	// then overlaps with the provider's time to first token.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	events := c.prefetch(sctx, prov, req)

	now := c.clock.Now()
	msg := store.Message{ID: c.ids.NewID("msg_"), ConversationID: convID, UserID: userID, Role: store.RoleAssistant,
		Status: store.StatusStreaming, Reason: t.reason, Channel: t.channel, ParentID: t.parent, CreatedAt: now, UpdatedAt: now}
	t.reason = "" // stored once, on the reply that opens the turn
	t.parent = "" // later rounds follow the head, which is this reply
	// Storing uses a context that survives cancellation, so an interrupted
	// reply is still written down.
	keep := context.WithoutCancel(ctx)
	if err := c.store.AppendMessage(keep, msg); err != nil {
		stop()
		for range events {
		}
		t.emit(Event{Type: EvError, Err: &TurnError{Code: CodeInternal, Message: "Could not store the reply.", Details: err.Error()}})
		return msg, nil, store.StatusFailed
	}
	t.reply.Store(&msg.ID)
	started := msg // events carry their own copy: msg changes below
	t.emit(Event{Type: EvAssistantStart, Message: &started})

	var text strings.Builder
	var calls []llm.ToolCall
	var streamErr error
	// Reasoning is kept apart from the answer: stored and shown collapsed,
	// never spoken or fed to memory (issue 10). thinkFrom is its first
	// token, thoughtFor runs from there to the answer's first.
	var reasoning strings.Builder
	var thinkFrom time.Time
	var thoughtFor time.Duration
	thought := 0
	finish, sawDone, dirty := "", false, false
	key := modelKey(prov, req)
	estimated := promptTokens(req)
	recovered := false // an overflow or a cut-off tool call was retried once
	answered := func() {
		if !thinkFrom.IsZero() && thoughtFor == 0 {
			thoughtFor = max(c.clock.Now().Sub(thinkFrom).Round(time.Millisecond), time.Millisecond) // stored in ms
		}
	}
	// Streamed text is saved on a timer, so a crash loses at most FlushEvery
	// of it even when the model pauses mid-reply.
	tick := c.clock.NewTicker(c.opts.FlushEvery)
	defer tick.Stop()
	flush := func() {
		if !dirty {
			return
		}
		dirty = false
		content := text.String()
		if err := c.store.UpdateMessage(keep, userID, msg.ID, store.MessagePatch{Content: &content}, c.clock.Now()); err != nil {
			c.log.Warn("flush streamed reply", "message", msg.ID, "err", err)
		}
	}
retry:
read:
	for {
		var it streamItem
		var ok bool
		select {
		case <-tick.C():
			flush()
			continue
		case it, ok = <-events:
			if !ok {
				break read
			}
		}
		ev, err := it.ev, it.err
		if err != nil {
			streamErr = err
			break
		}
		sawDone = sawDone || ev.Kind == llm.EventDone
		switch ev.Kind {
		case llm.EventText:
			if ev.Text == "" {
				continue
			}
			answered()
			if text.Len() == 0 {
			}
			text.WriteString(ev.Text)
			dirty = true
			t.emit(Event{Type: EvDelta, MessageID: msg.ID, Text: ev.Text})
		case llm.EventToolCall:
			if ev.ToolCall != nil {
				answered()
				calls = append(calls, *ev.ToolCall)
			}
		case llm.EventReasoning:
			if ev.Text == "" {
				continue
			}
			if thinkFrom.IsZero() {
				thinkFrom = c.clock.Now()
			}
			thought += len(ev.Text)
			reasoning.WriteString(ev.Text)
			t.emit(Event{Type: EvReasoning, MessageID: msg.ID, Text: ev.Text})
		case llm.EventUsage:
			if ev.Usage != nil {
				c.observe(key, estimated, ev.Usage.InputTokens)
			}
		case llm.EventDone:
			if ev.StopReason == "length" {
				finish = store.FinishLength
			}
		}
	}
	if streamErr != nil && ctx.Err() == nil && !recovered {
		// An overflow is retried once with a shorter prompt, a tool call
		// cut off by the token limit once with a larger limit; the reply
		// starts again in the same message (clients that saw part of it
		// re-read it: lagged).
		next, ok := req, false
		switch llm.KindOf(streamErr) {
		case llm.KindContextOverflow:
			c.learnOverflow(key, streamErr, estimated)
			limit, factor := c.contextFor(ctx, key)
			target := min(int(float64(limit-req.MaxTokens)*0.9/factor), estimated*3/4)
			next, ok = shrinkRequest(req, max(target, 256)), true
			c.log.Warn("prompt did not fit the model's context; shortened and retrying", "model", key, "estimated", estimated, "target", target, "err", streamErr)
		case llm.KindCutOff:
			next.MaxTokens, ok = max(2*req.MaxTokens, 2048), true
			c.log.Warn("a tool call was cut off by the token limit; retrying with a larger one", "model", key, "max_tokens", next.MaxTokens)
		}
		if ok {
			recovered, req, estimated = true, next, promptTokens(next)
			if text.Len() > 0 || reasoning.Len() > 0 {
				t.emit(Event{Type: EvLagged, MessageID: msg.ID})
			}
			text.Reset()
			reasoning.Reset()
			calls, streamErr, thinkFrom, thoughtFor, thought, finish, sawDone = nil, nil, time.Time{}, 0, 0, "", false
			empty := ""
			_ = c.store.UpdateMessage(keep, userID, msg.ID, store.MessagePatch{Content: &empty}, c.clock.Now())
			dirty = false
			events = c.prefetch(sctx, prov, req)
			goto retry
		}
	}
	if streamErr != nil && recovered {
		switch llm.KindOf(streamErr) {
		case llm.KindContextOverflow:
			c.learnOverflow(key, streamErr, estimated)
			streamErr = c.overflowAdvice(key, streamErr)
		case llm.KindCutOff:
			streamErr = c.cutOffAdvice(streamErr, req.MaxTokens)
		}
	}
	answered()
	if streamErr == nil && !sawDone { // providers end with Done or an error; be safe anyway
		streamErr = ctx.Err()
		if streamErr == nil {
			streamErr = &llm.Error{Kind: llm.KindProtocol, Provider: prov.Name(), Message: "the stream ended without finishing"}
		}
	}
	content := text.String()
	status := store.StatusComplete
	var turnErr *TurnError
	switch {
	case streamErr != nil && (ctx.Err() != nil || llm.KindOf(streamErr) == llm.KindCanceled):
		status = store.StatusInterrupted
		calls = nil
	case streamErr != nil:
		status = store.StatusFailed
		calls = nil
		kind := string(llm.KindOf(streamErr))
		if kind == "" {
			kind = "unknown"
		}
		c.observer.Error(kind)
		sentence, details := plainFailure(streamErr)
		turnErr = &TurnError{Code: CodeModelError, Message: sentence, Details: details}
		c.log.Warn("model call failed", "provider", prov.Name(), "kind", kind, "err", streamErr)
	case strings.TrimSpace(content) == "" && len(calls) == 0:
		// A reasoning model that only thought (or was cut off while
		// thinking) said nothing: that is no reply, whatever the stream says.
		status = store.StatusFailed
		c.observer.Error("empty_answer")
		turnErr = &TurnError{Code: CodeModelError, Message: ErrEmptyAnswer.Error()}
		c.log.Warn("model answered with nothing", "provider", prov.Name(), "reasoning_bytes", thought)
	}
	patch := store.MessagePatch{Content: &content, Status: &status}
	if r := reasoning.String(); r != "" {
		patch.Reasoning, patch.ThoughtFor = &r, &thoughtFor
		msg.Reasoning, msg.ThoughtFor = r, thoughtFor
	}
	if finish != "" && status == store.StatusComplete {
		patch.Finish = &finish
		msg.Finish = finish
	}
	if turnErr != nil {
		stored := FailureText(turnErr.Message, turnErr.Details)
		patch.Error = &stored
	}
	if len(calls) > 0 {
		patch.ToolCalls = storeToolCalls(calls)
		msg.ToolCalls = patch.ToolCalls
	}
	end := c.clock.Now()
	if err := c.saveFinal(keep, userID, msg.ID, patch, end); err != nil {
		// The client must not see "complete" for a reply the database does
		// not hold (disk full): report the failure; the text streamed so far
		// is what was saved, and a restart marks it interrupted.
		c.log.Error("store finished reply", "message", msg.ID, "err", err)
		c.observer.Error("storage")
		status = store.StatusFailed
		turnErr = &TurnError{Code: CodeStorage, Message: "The reply could not be saved, so it may be lost after a reload. Check the server's disk.", Details: err.Error()}
		calls = nil
		msg.ToolCalls = nil
	}
	msg.Content, msg.Status, msg.UpdatedAt = content, status, end
	if turnErr != nil {
		msg.Error = FailureText(turnErr.Message, turnErr.Details)
		t.emit(Event{Type: EvError, Err: turnErr})
	}
	t.emit(Event{Type: EvAssistantDone, Message: &msg})
	return msg, calls, status
}

// ErrEmptyAnswer is the error stored on a reply whose stream finished with
// no answer text and no tool call.
var ErrEmptyAnswer = errors.New("The model answered with nothing (it may have only thought, or its answer was cut off); try again or use another model")

// saveBackoff bounds how hard a finished reply's save is
// retried: a transient lock or a moment of full disk should not lose it.
var saveBackoff = []time.Duration{50 * time.Millisecond, 250 * time.Millisecond, time.Second}

// saveFinal stores a reply's final state, retrying a failed write.
func (c *Companion) saveFinal(ctx context.Context, userID, id string, p store.MessagePatch, at time.Time) error {
	err := c.store.UpdateMessage(ctx, userID, id, p, at)
	for _, d := range saveBackoff {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return err
		}
		c.log.Warn("save finished reply; retrying", "message", id, "err", err, "in", d)
		_ = clock.Sleep(c.base, c.clock, d) // at shutdown: retry at once, then give up
		err = c.store.UpdateMessage(ctx, userID, id, p, at)
	}
	return err
}

type streamItem struct {
	ev  llm.Event
	err error
}

// prefetch starts the model call at once and hands its events over a
// channel, timing the provider's first token. The channel closes when the
// stream ends (cancel ctx to end it early); the reader must drain it.
func (c *Companion) prefetch(ctx context.Context, prov llm.Provider, req llm.Request) <-chan streamItem {
	ch := make(chan streamItem, 64)
	start := c.clock.Now()
	go func() {
		defer close(ch)
		defer func() {
			if v := recover(); v != nil {
				c.log.Error("model stream panicked; recovered", "provider", prov.Name(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				ch <- streamItem{err: &llm.Error{Kind: llm.KindProtocol, Provider: prov.Name(), Message: "the model client failed unexpectedly"}}
			}
		}()
		first := true
		for ev, err := range prov.Stream(ctx, req) {
			if first {
				first = false
				if err == nil {
					c.observer.FirstToken(prov.Name(), c.clock.Now().Sub(start))
				}
			}
			ch <- streamItem{ev, err} // the reader always drains (see stream)
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// failWithoutModel records that no model could answer, so the user sees why
// after a reload, and Retry works once a model is connected.
func (c *Companion) failWithoutModel(ctx context.Context, t *turn, userID, convID string, cause error) {
	now := c.clock.Now()
	text := Sentence(cause.Error())
	msg := store.Message{ID: c.ids.NewID("msg_"), ConversationID: convID, UserID: userID, Role: store.RoleAssistant,
		Status: store.StatusFailed, Error: text, Reason: t.reason, Channel: t.channel, ParentID: t.parent, CreatedAt: now, UpdatedAt: now}
	if err := c.store.AppendMessage(context.WithoutCancel(ctx), msg); err != nil {
		c.log.Error("store failed reply", "err", err)
	}
	t.emit(Event{Type: EvError, Err: &TurnError{Code: CodeNoModel, Message: text}})
	t.emit(Event{Type: EvAssistantDone, Message: &msg})
}

// runTools runs the calls of one assistant message. Tools without side
// effects run at once; others become pending actions. It reports whether the
// turn must wait for the user.
func (c *Companion) runTools(ctx context.Context, t *turn, tools *Registry, userID, convID string, msg store.Message, calls []llm.ToolCall) bool {
	waiting := false
	for _, sc := range storeToolCalls(calls) {
		tool, ok := tools.Lookup(sc.Name)
		if !ok {
			c.toolResult(ctx, t, userID, convID, sc.ID, toolOutput("", fmt.Errorf("%w %q", ErrNoSuchTool, sc.Name)))
			continue
		}
		if !tool.SideEffects {
			out, err := c.runTool(ctx, tool, userID, convID, sc.Arguments)
			c.toolResult(ctx, t, userID, convID, sc.ID, toolOutput(out, err))
			continue
		}
		a := store.Action{ID: c.ids.NewID("act_"), UserID: userID, ConversationID: convID, MessageID: msg.ID,
			ToolCallID: sc.ID, Tool: sc.Name, Arguments: sc.Arguments, Status: store.ActionPending, CreatedAt: c.clock.Now()}
		if err := c.store.CreateAction(context.WithoutCancel(ctx), a); err != nil {
			c.toolResult(ctx, t, userID, convID, sc.ID, toolOutput("", fmt.Errorf("could not ask the user: %w", err)))
			continue
		}
		waiting = true
		t.emit(Event{Type: EvActionRequired, Action: &ActionView{Action: a, Summary: tools.Describe(ctx, a)}})
	}
	return waiting
}

// ErrNoSuchTool is a tool call for a name the user's registry lacks.
var ErrNoSuchTool = errors.New("there is no tool named")

// ErrToolPanicked is a tool that panicked (recovered; the log has the stack).
var ErrToolPanicked = errors.New("the tool failed unexpectedly (the server log has details)")

// runTool runs one tool; its failure is an error (wrapping the tool's own,
// or ErrToolPanicked), never a string to parse.
func (c *Companion) runTool(ctx context.Context, tool Tool, userID, convID string, args json.RawMessage) (string, error) {
	prof, _ := c.store.Profile(ctx, userID)
	var out string
	var err error
	if !c.safely("tool "+tool.Name, func() {
		out, err = tool.Run(ctx, Call{UserID: userID, ConversationID: convID, Args: args, Now: c.clock.Now(), Location: prof.Location()})
	}) {
		err = ErrToolPanicked
	}
	if err != nil {
		c.observer.Error("tool")
		return "", fmt.Errorf("tool %s: %w", tool.Name, err)
	}
	return out, nil
}

// toolOutput is what the model reads of a tool's outcome: its output, or
// its error in words (the only place a failure becomes text).
func toolOutput(out string, err error) string {
	if err != nil {
		return "Error: " + err.Error()
	}
	return out
}

func (c *Companion) toolResult(ctx context.Context, t *turn, userID, convID, callID, content string) {
	now := c.clock.Now()
	m := store.Message{ID: c.ids.NewID("msg_"), ConversationID: convID, UserID: userID, Role: store.RoleTool,
		Content: content, ToolCallID: callID, Status: store.StatusComplete, CreatedAt: now, UpdatedAt: now}
	if err := c.store.AppendMessage(context.WithoutCancel(ctx), m); err != nil {
		c.log.Error("store tool result", "err", err)
		return
	}
	if t != nil {
		t.emit(Event{Type: EvToolResult, Message: &m})
	}
}

// supersedePending declines actions left unanswered when the user moves on,
// so the history stays consistent and a stale approval cannot fire later.
func (c *Companion) supersedePending(ctx context.Context, userID, convID string) {
	pending, err := c.store.PendingActions(ctx, userID, convID)
	if err != nil {
		return
	}
	for _, a := range pending {
		if err := c.store.DecideAction(ctx, userID, a.ID, store.ActionDenied, c.clock.Now()); err != nil {
			continue
		}
		_ = c.store.FinishAction(ctx, userID, a.ID, store.ActionDenied, "superseded by a new message")
		c.toolResult(ctx, nil, userID, convID, a.ToolCallID, "Not run: the user moved on without confirming.")
	}
}

// Decide answers a pending action: approve runs the tool, deny declines it.
// When no other action of the same reply is pending, the companion goes on.
func (c *Companion) Decide(ctx context.Context, userID, actionID string, approve bool) (iter.Seq[Event], error) {
	a, err := c.store.Action(ctx, userID, actionID)
	if err != nil {
		return nil, err
	}
	conv, err := c.store.Conversation(ctx, userID, a.ConversationID)
	if err != nil {
		return nil, err
	}
	t, err := c.begin(conv)
	if err != nil {
		return nil, err
	}
	status := store.ActionDenied
	if approve {
		status = store.ActionApproved
	}
	if err := c.store.DecideAction(ctx, userID, actionID, status, c.clock.Now()); err != nil {
		t.abandon()
		return nil, err // ErrNotFound: not pending any more
	}
	go t.run(func(ctx context.Context) {
		t.emit(Event{Type: EvConversation, Conversation: &conv})
		var result string
		final := store.ActionDenied
		if approve {
			var out string
			tools, err := c.ToolsFor(ctx, userID)
			if err == nil {
				tool, ok := tools.Lookup(a.Tool)
				if ok {
					out, err = c.runTool(ctx, tool, userID, a.ConversationID, a.Arguments)
				} else {
					err = fmt.Errorf("%w %q", ErrNoSuchTool, a.Tool)
				}
			}
			result, final = toolOutput(out, err), store.ActionDone
			if err != nil {
				final = store.ActionFailed
			}
		} else {
			result = "The user declined this action."
		}
		if err := c.store.FinishAction(context.WithoutCancel(ctx), userID, a.ID, final, result); err != nil {
			c.log.Error("finish action", "err", err)
		}
		done := a
		done.Status, done.Result = final, result
		t.emit(Event{Type: EvActionDecided, Action: &ActionView{Action: done, Summary: c.DescribeAction(ctx, done)}})
		c.toolResult(ctx, t, userID, a.ConversationID, a.ToolCallID, result)
		if rest, err := c.store.PendingActions(ctx, userID, a.ConversationID); err == nil && len(rest) > 0 {
			return
		}
		c.respond(ctx, t, userID, a.ConversationID)
	})
	return t.events(), nil
}
