package companion

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// Slot adds a section to the system prompt, for example recalled memories or
// today's calendar. Later subsystems register slots; the prompt only asks.
type Slot interface {
	// SlotName is the section heading.
	SlotName() string
	// SlotText returns the section for this user and the latest message; ""
	// leaves the section out. An error leaves it out too and is logged.
	SlotText(ctx context.Context, userID, latest string) (string, error)
}

// SlotInput is what a slot is asked with: the user, their latest message,
// and the time of the turn in the user's zone (store.Profile.Location).
type SlotInput struct {
	UserID   string
	Latest   string
	Now      time.Time
	Location *time.Location
}

// TimedSlot is a Slot that wants the time and zone of the turn (a calendar,
// reminders). The companion asks it with SlotFor instead of SlotText.
type TimedSlot interface {
	Slot
	SlotFor(ctx context.Context, in SlotInput) (string, error)
}

// WarmingSlot is a Slot with slow work that depends on the latest message
// alone (recall embeds it, several milliseconds of CPU): Send calls Warm
// first thing, before it reads the conversation and stores the message, so
// that work starts while the machine still has a free core and runs beside
// the rest of the turn instead of after it. Warm must return at once and
// only start work whose result SlotText uses (a cache), never change what
// SlotText answers.
type WarmingSlot interface {
	Slot
	Warm(latest string)
}

// warmSlots starts the slots' early work for the latest message.
func (c *Companion) warmSlots(latest string) {
	for _, s := range c.slots {
		if w, ok := s.(WarmingSlot); ok {
			w.Warm(latest)
		}
	}
}

func askSlot(ctx context.Context, s Slot, in SlotInput) (string, error) {
	if ts, ok := s.(TimedSlot); ok {
		return ts.SlotFor(ctx, in)
	}
	return s.SlotText(ctx, in.UserID, in.Latest)
}

// questions are the first-meeting questions, in the order the UI asks them.
var questions = []struct{ Key, Label string }{
	{"social", "How social they are these days"},
	{"matters", "What matters most to them right now"},
	{"sound", "How they would like you to sound"},
}

// promptInput is what the system prompt is made of.
type promptInput struct {
	Persona store.Persona
	User    store.User
	Profile store.Profile
	Now     time.Time
	Loc     *time.Location
	Slots   []slotText
	Reason  string // os1 speaks first (Initiate), because of this
	// Channel is where the reply goes: store.ChannelVoice when it is
	// spoken on a call (or by os1 talk), "" when it is read in a chat.
	Channel string
}

type slotText struct{ Name, Text string }

// systemPrompt assembles the persona, what the user shared, the local time
// and any slots. It is deterministic for equal input (golden-tested).
func systemPrompt(in promptInput) string {
	var b strings.Builder
	name := in.Persona.Name
	if name == "" {
		name = "a companion who has not chosen a name yet"
	}
	fmt.Fprintf(&b, "You are %s, a warm, curious and attentive AI companion running on %s's own server.\n", name, displayName(in.User))
	b.WriteString("You talk with them like a close friend who is genuinely interested in their life: listen, ask good questions, remember what they share, be honest, be brief unless depth is wanted. ")
	b.WriteString("Never pretend to have done something you have not done; use a tool when one fits, and side-effect tools only run after the user confirms.\n")
	if v := strings.TrimSpace(in.Persona.Voice); v != "" {
		fmt.Fprintf(&b, "How to sound: %s\n", v)
	}
	if s := strings.TrimSpace(in.Persona.Style); s != "" {
		fmt.Fprintf(&b, "Style notes from the user: %s\n", s)
	}
	var shared []string
	for _, q := range questions {
		if a := strings.TrimSpace(in.Profile.Answers[q.Key]); a != "" && q.Key != "sound" {
			shared = append(shared, fmt.Sprintf("- %s: %s", q.Label, a))
		}
	}
	var extra []string
	for k, v := range in.Profile.Answers {
		if !isQuestion(k) && strings.TrimSpace(v) != "" {
			extra = append(extra, fmt.Sprintf("- %s: %s", k, strings.TrimSpace(v)))
		}
	}
	sort.Strings(extra)
	shared = append(shared, extra...)
	if len(shared) > 0 {
		fmt.Fprintf(&b, "\nWhat %s told you when you first met:\n%s\n", displayName(in.User), strings.Join(shared, "\n"))
	}
	b.WriteString(register(in.Channel))
	now := in.Now.In(in.Loc)
	fmt.Fprintf(&b, "\nIt is now %s, time zone %s.\n", now.Format("Monday 2 January 2006, 15:04"), in.Loc.String())
	if in.Reason != "" {
		fmt.Fprintf(&b, "\nYou are starting this exchange yourself; the user did not write. Why: %s\n", in.Reason)
	}
	for _, s := range in.Slots {
		fmt.Fprintf(&b, "\n## %s\n%s\n", s.Name, strings.TrimSpace(s.Text))
	}
	return b.String()
}

// Registers: how to write for where the reply goes. A spoken reply is
// heard once, by ear, through a speech engine that reads every character:
// markup, lists and links come out as noise, and long sentences are lost.
const (
	textRegister = "\nYou are writing in a chat that shows Markdown: use it (lists, **bold**, code blocks, tables) when it makes an answer clearer, and plain sentences otherwise.\n"

	voiceRegister = "\nYou are talking aloud on a voice call: everything you write is spoken by a speech engine and heard, not read. So:\n" +
		"- Speak in short, natural sentences, the way people talk; keep replies brief unless they ask for more.\n" +
		"- Ask at most one question at a time.\n" +
		"- Never use lists, tables, headings, Markdown, emoji or symbols; say things in flowing sentences instead.\n" +
		"- Never read out URLs, email addresses, file paths or code; say what they are, and offer to send them in the chat.\n" +
		"- Say numbers, dates, times and amounts the way people say them: \"half past seven\", \"the third of March\", \"about two thousand\", \"twelve dollars fifty\".\n"
)

// register is the prompt section for the channel a reply goes to.
func register(channel string) string {
	if channel == store.ChannelVoice {
		return voiceRegister
	}
	return textRegister
}

func isQuestion(k string) bool {
	for _, q := range questions {
		if q.Key == k {
			return true
		}
	}
	return false
}

func displayName(u store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	if u.Username != "" {
		return u.Username
	}
	return "the user"
}

// estimateTokens is a message's estimated tokens: its text by character
// class (estimateText, the unit of promptBudget) plus per-message overhead.
func estimateTokens(s string) int { return estimateText(s) + 4 }

// truncatedNote marks a message shortened for the prompt only.
const truncatedNote = "\n[… message shortened to fit the context window; the full text is stored]"

// buildHistory turns stored messages into the prompt's history within budget
// tokens, keeping the newest. It trims only the prompt, never the store.
// Failed and still-streaming assistant messages are left out; tool calls that
// never got a result get a synthetic "not run" result so providers accept
// the history. all reports whether every message fitted (so a caller that
// passed a window knows more could have gone in).
// minTurnTokens is the least kept of an older message of the current turn
// (the user's request above its tool results) when the budget is spent.
const minTurnTokens = 256

func buildHistory(msgs []store.Message, budget int) (history []llm.Message, all bool) {
	// Group into units that must stay together: an assistant message with
	// tool calls plus its tool results.
	type unit struct {
		msgs   []llm.Message
		tokens int
	}
	var units []unit
	results := map[string]bool{}
	for _, m := range msgs {
		if m.Role == store.RoleTool {
			results[m.ToolCallID] = true
		}
	}
	for i := 0; i < len(msgs); i++ {
		m := msgs[i]
		switch m.Role {
		case store.RoleUser:
			units = append(units, unit{msgs: []llm.Message{{Role: llm.RoleUser, Content: m.Content}}, tokens: estimateTokens(m.Content)})
		case store.RoleAssistant:
			if m.Status == store.StatusFailed || m.Status == store.StatusStreaming {
				continue
			}
			if m.Content == "" && len(m.ToolCalls) == 0 {
				continue
			}
			u := unit{}
			am := llm.Message{Role: llm.RoleAssistant, Content: m.Content}
			for _, tc := range m.ToolCalls {
				am.ToolCalls = append(am.ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
			}
			u.msgs = append(u.msgs, am)
			u.tokens += estimateTokens(m.Content) + 20*len(m.ToolCalls)
			// Pull in the tool results that follow.
			answered := map[string]bool{}
			for i+1 < len(msgs) && msgs[i+1].Role == store.RoleTool {
				i++
				t := msgs[i]
				u.msgs = append(u.msgs, llm.Message{Role: llm.RoleTool, Content: t.Content, ToolCallID: t.ToolCallID})
				u.tokens += estimateTokens(t.Content)
				answered[t.ToolCallID] = true
			}
			for _, tc := range m.ToolCalls {
				if !answered[tc.ID] {
					u.msgs = append(u.msgs, llm.Message{Role: llm.RoleTool, Content: "Not run: the user has not confirmed this action.", ToolCallID: tc.ID})
					u.tokens += 15
				}
			}
			units = append(units, u)
		case store.RoleTool:
			// A tool result separated from its call (should not happen) is skipped.
		}
	}
	// Keep the newest units that fit. The current turn — the user's latest
	// message and the tool rounds after it — always goes in, each unit that
	// does not fit shortened (its last message cut, never below
	// minTurnTokens): a turn whose tool results fill the budget must not
	// lose the request they answer.
	turn := len(units) - 1
	for turn > 0 && units[turn].msgs[0].Role != llm.RoleUser {
		turn--
	}
	var kept [][]llm.Message // newest first
	used := 0
	all = true
	for j := len(units) - 1; j >= 0; j-- {
		u := units[j]
		if used+u.tokens > budget {
			all = false
			if j < turn {
				break
			}
			last := u.msgs[len(u.msgs)-1]
			keep := max(budget-used-(u.tokens-estimateText(last.Content)), 0)
			if j < len(units)-1 {
				keep = max(keep, minTurnTokens)
			}
			if cut := cutTokens(last.Content, keep); len(cut) < len(last.Content) {
				last.Content = cut + truncatedNote
			}
			u.msgs[len(u.msgs)-1] = last
			kept = append(kept, u.msgs)
			used = budget
			continue
		}
		used += u.tokens
		kept = append(kept, u.msgs)
	}
	for j := len(kept) - 1; j >= 0; j-- {
		history = append(history, kept[j]...)
	}
	return history, all
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && n < len(s) && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
