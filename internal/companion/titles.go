package companion

// Conversation titles written by the model.
//
// A new conversation is titled from its first message (titleFrom). After
// the first complete reply, when Options.ModelTitles is on and nobody else
// has titled it, the companion asks the model for a short title in the
// background and saves it with TitleSource = store.TitleFromModel. A title
// the user wrote (TitleFromUser) is never replaced. A failed or unusable
// answer leaves the first-message title and is only logged: the user never
// sees a title error. The request runs after the turn, with its own
// deadline on the injected clock, and never holds the turn or its lock.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// EvConversationUpdated says a conversation's title, pin, archive or model
// changed (Conversation holds it as stored). It is a final event: a reader
// that keeps up gets every one.
const EvConversationUpdated EventType = "conversation_updated"

// TitleInstruction opens the system prompt of a title request; it tells
// those requests apart from turns (the scripted model server's routes use it).
const TitleInstruction = "You write short titles for conversations."

const titleSystem = TitleInstruction + " Answer with the title only: 2 to 6 words in the language of the conversation, " +
	"saying what it is about. No quotes, no full stop at the end, no emoji, nothing else."

const (
	// TitleTimeout bounds one title request, from asking to saving.
	TitleTimeout = 30 * time.Second
	// titleMaxTokens is enough for six words, and small so a model that
	// rambles is cut off (its answer is then not used).
	titleMaxTokens = 48
	// titleQuote bounds how much of each message the title request quotes.
	titleQuote = 1200
	// maxTitleWords: a longer answer is not a title.
	maxTitleWords = 10
	// titleRunes is the length of a shown title, as for first-message titles.
	titleRunes = 60
)

// titleState serialises title writes (the model's and the user's) within
// this process, so a rename that lands while the model is still thinking
// wins: the model's title is saved only if nobody titled the conversation
// meanwhile.
type titleState struct {
	mu sync.Mutex
}

// titleAfterTurn starts a title request for the conversation when its
// first exchange has just completed. It returns at once.
func (c *Companion) titleAfterTurn(userID, convID string) {
	if !c.opts.ModelTitles || c.base.Err() != nil {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithCancel(c.base)
		defer cancel()
		deadline := c.clock.AfterFunc(TitleTimeout, cancel)
		defer deadline.Stop()
		c.safely("conversation title", func() {
			if err := c.writeTitle(ctx, userID, convID); err != nil {
				c.log.Warn("conversation title from the model failed; the first message stays the title",
					"conversation", convID, "err", err)
			}
		})
	}()
}

// errNoTitle: the model's answer is not a usable title.
var errNoTitle = errors.New("the answer is not a title")

// writeTitle asks for a title and saves it. It returns nil without asking
// when the conversation is not at the end of its first exchange or already
// has a title from the model or the user.
func (c *Companion) writeTitle(ctx context.Context, userID, convID string) error {
	conv, err := c.store.Conversation(ctx, userID, convID)
	if err != nil {
		return err
	}
	if conv.TitleSource != store.TitleFromFirstMessage {
		return nil
	}
	const window = 8
	msgs, err := c.store.RecentMessages(ctx, userID, convID, window)
	if err != nil {
		return err
	}
	if len(msgs) == window {
		return nil // a long conversation (one from before model titles): leave it alone
	}
	var first, reply string
	users := 0
	for _, m := range msgs {
		if m.Role == store.RoleUser {
			users++
			if first == "" {
				first = m.Content
			}
		}
	}
	if n := len(msgs); n > 0 {
		if last := msgs[n-1]; last.Role == store.RoleAssistant && last.Status == store.StatusComplete && len(last.ToolCalls) == 0 {
			reply = last.Content
		}
	}
	if users != 1 || strings.TrimSpace(reply) == "" {
		return nil // not the first exchange, or it did not end in an answer
	}
	if !fallbackTitle(conv.Title, first) {
		return nil // titled some other way (when it was created, or by the rename tool)
	}

	prov, err := c.models.Provider(ctx)
	if err != nil {
		return err
	}
	req := llm.Request{
		Model:     conv.Model,
		System:    titleSystem,
		MaxTokens: titleMaxTokens,
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Title this conversation.\n\nThe user said:\n" +
			quote(first) + "\n\nThe assistant answered:\n" + quote(reply)}},
	}
	var answer strings.Builder
	for ev, err := range prov.Stream(ctx, req) {
		if err != nil {
			return fmt.Errorf("ask %s for a title: %w", prov.Name(), err)
		}
		if ev.Kind == llm.EventText { // reasoning is not kept
			answer.WriteString(ev.Text)
		}
	}
	title, err := cleanModelTitle(answer.String())
	if err != nil {
		return fmt.Errorf("%w: %q", err, answer.String())
	}

	c.titles.mu.Lock()
	defer c.titles.mu.Unlock()
	// The user may have renamed it while the model was thinking.
	if conv, err = c.store.Conversation(ctx, userID, convID); err != nil {
		return err
	}
	if conv.TitleSource != store.TitleFromFirstMessage || !fallbackTitle(conv.Title, first) {
		return nil
	}
	src := store.TitleFromModel
	if err := c.store.UpdateConversation(ctx, userID, convID, store.ConversationPatch{Title: &title, TitleSource: &src}, c.clock.Now()); err != nil {
		return err
	}
	conv.Title, conv.TitleSource = title, src
	c.bus.Publish(ctx, userID, Event{Type: EvConversationUpdated, ConversationID: convID, Conversation: &conv})
	return nil
}

// fallbackTitle says whether title is one os1 gave a conversation before
// anyone chose one: its first message's, or that of an untitled new one.
func fallbackTitle(title, first string) bool {
	return title == titleFrom(first) || title == "New conversation"
}

func quote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= titleQuote {
		return s
	}
	cut := titleQuote
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// cleanModelTitle makes a model's answer a title: its first line, without
// a "Title:" label, quotes, markdown marks or a full stop, made one clean
// line (textsafe.CleanTitle) of at most titleRunes. An empty answer or one
// of more than maxTitleWords words is errNoTitle.
func cleanModelTitle(answer string) (string, error) {
	line := ""
	for l := range strings.SplitSeq(answer, "\n") {
		if strings.TrimSpace(l) != "" {
			line = l
			break
		}
	}
	line = textsafe.CleanTitle(line)
	if i := strings.IndexByte(line, ':'); i >= 0 && strings.EqualFold(strings.TrimSpace(line[:i]), "title") {
		line = line[i+1:]
	}
	line = strings.TrimFunc(line, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("\"'`*#_“”‘’«»„", r)
	})
	line = strings.TrimRight(line, ".。 ")
	words := strings.Fields(line)
	if len(words) == 0 || len(words) > maxTitleWords {
		return "", errNoTitle
	}
	if r := []rune(line); len(r) > titleRunes {
		line = strings.TrimSpace(string(r[:titleRunes])) + "…"
	}
	return line, nil
}
