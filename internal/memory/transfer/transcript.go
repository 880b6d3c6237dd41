package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// Transcript is a chat history from elsewhere (another app, an evaluation
// set), imported with ImportTranscript. docs/memory.md describes the file.
type Transcript struct {
	Sessions []TranscriptSession `json:"sessions"`
}

// TranscriptSession becomes one conversation.
type TranscriptSession struct {
	Time     string              `json:"time"`            // RFC 3339: when the session began
	Title    string              `json:"title,omitempty"` // optional conversation title
	Messages []TranscriptMessage `json:"messages"`
}

// TranscriptMessage is one utterance. Its ID is kept as the message ID.
type TranscriptMessage struct {
	ID      string `json:"id"`
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
}

// maxIDLen bounds message IDs from a transcript.
const maxIDLen = 200

// ParseTranscript decodes and checks a transcript file: valid UTF-8, only
// known fields, an RFC 3339 time on every session, and every message with a
// unique, non-empty ID, a speaker and text of at most MaxMessageBytes. A
// message with no text (a photo-only turn in an export) is allowed: the
// import skips it and counts it. Errors wrap ErrInvalidImport and say where
// the problem is.
func ParseTranscript(data []byte) (*Transcript, error) {
	var tr Transcript
	if err := decodeStrict(data, &tr, "a transcript", "the transcript object",
		` (want {"sessions":[{"time":…,"messages":[{"id","speaker","text"}]}]})`); err != nil {
		return nil, err
	}
	if len(tr.Sessions) == 0 {
		return nil, invalid("the transcript has no sessions")
	}
	seen := map[string]int{}
	for si, s := range tr.Sessions {
		where := fmt.Sprintf("session %d", si+1)
		if _, err := time.Parse(time.RFC3339, s.Time); err != nil {
			return nil, invalid("%s has time %q; want RFC 3339, e.g. 2023-05-08T13:56:00Z", where, s.Time)
		}
		for mi, m := range s.Messages {
			at := fmt.Sprintf("%s, message %d", where, mi+1)
			switch {
			case m.ID == "":
				return nil, invalid("%s has no id", at)
			case len(m.ID) > maxIDLen || strings.IndexFunc(m.ID, unicode.IsControl) >= 0:
				return nil, invalid("%s has id %q; ids are at most %d bytes without control characters", at, m.ID, maxIDLen)
			case strings.TrimSpace(m.Speaker) == "":
				return nil, invalid("%s (id %q) has no speaker", at, m.ID)
			case len(m.Text) > memory.MaxMessageBytes:
				return nil, invalid("%s (id %q) is %d bytes; the limit is %d (1 MiB), as in chat", at, m.ID, len(m.Text), memory.MaxMessageBytes)
			}
			if prev, ok := seen[m.ID]; ok {
				return nil, invalid("message id %q is used twice (sessions %d and %d)", m.ID, prev, si+1)
			}
			seen[m.ID] = si + 1
		}
	}
	return &tr, nil
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// jsonProblem adds a line number to a JSON decoding error.
func jsonProblem(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	return fmt.Sprintf("line %d: %v", 1+bytes.Count(data[:off], []byte("\n")), err)
}

// TranscriptImport is what ImportTranscript wrote.
type TranscriptImport struct {
	Conversations []string // new conversation IDs, in session order
	Messages      int
	Indexed       int
	Others        []string // the speakers who are not the user, in order of appearance
	Skipped       int      // messages with no text, left out
}

// blank says a transcript message has nothing to import.
func blank(m TranscriptMessage) bool { return strings.TrimSpace(m.Text) == "" }

// IsUserSpeaker reports whether a transcript speaker is the user: their
// display name or username, compared without case and surrounding space.
func IsUserSpeaker(u store.User, speaker string) bool {
	s := strings.TrimSpace(speaker)
	return (u.DisplayName != "" && strings.EqualFold(s, strings.TrimSpace(u.DisplayName))) || strings.EqualFold(s, u.Username)
}

// ImportTranscript stores each session as a new conversation of u. Messages
// keep their IDs and get the session's time plus one second per message;
// the user's own lines become user messages, everyone else's assistant
// messages, and the recall index keeps each speaker's name. Then every
// message is indexed for recall (with vectors when an embedder is set) and,
// with Watermarks set, recorded as indexed but not yet extracted. A
// message ID already taken in this database fails the import, naming it,
// before anything is written; any later failure removes what was written.
// A dry run checks the IDs and writes nothing.
func (t *Transfer) ImportTranscript(ctx context.Context, u store.User, tr *Transcript, dryRun bool) (out TranscriptImport, err error) {
	if err := noNUL(tr); err != nil {
		return out, err
	}
	if err := t.transcriptConflicts(ctx, tr); err != nil {
		return out, err
	}
	if dryRun {
		for _, s := range tr.Sessions {
			for _, m := range s.Messages {
				if blank(m) {
					out.Skipped++
				} else {
					out.Messages++
				}
			}
		}
		return out, nil
	}
	w := &writer{t: t, u: u}
	defer func() { // the SQLite driver panics when it runs out of memory
		if r := recover(); r != nil {
			w.undo()
			out, err = TranscriptImport{}, fmt.Errorf("import failed while writing (%v); nothing was imported", r)
		}
	}()
	var docs []memory.MessageDoc
	last := map[string]string{}
	total := 0
	for _, s := range tr.Sessions {
		for _, m := range s.Messages {
			if !blank(m) {
				total++
			}
		}
	}
	for _, s := range tr.Sessions {
		start, _ := time.Parse(time.RFC3339, s.Time) // checked by ParseTranscript
		title := textsafe.CleanTitle(s.Title)
		if title == "" {
			title = "Imported conversation, " + start.Format("2 Jan 2006")
		}
		end := start.Add(time.Duration(max(len(s.Messages)-1, 0)) * time.Second)
		c := store.Conversation{ID: clock.NewID("cnv_"), UserID: u.ID, Title: title, CreatedAt: start, UpdatedAt: end}
		if err := t.Core.CreateConversation(ctx, c); err != nil {
			w.undo()
			return TranscriptImport{}, fmt.Errorf("import session of %s: %w", s.Time, err)
		}
		w.convs = append(w.convs, c.ID)
		kept := 0
		for i, tm := range s.Messages {
			if blank(tm) {
				out.Skipped++
				continue
			}
			kept++
			last[c.ID] = tm.ID
			at := start.Add(time.Duration(i) * time.Second)
			role := store.RoleAssistant
			if IsUserSpeaker(u, tm.Speaker) {
				role = store.RoleUser
			} else if who := strings.TrimSpace(tm.Speaker); !slices.Contains(out.Others, who) {
				out.Others = append(out.Others, who)
			}
			m := store.Message{ID: tm.ID, ConversationID: c.ID, UserID: u.ID, Role: role, Content: tm.Text,
				Status: store.StatusComplete, CreatedAt: at, UpdatedAt: at}
			if err := t.Core.AppendMessage(ctx, m); err != nil {
				w.undo()
				return TranscriptImport{}, importError(err, "message", tm.ID)
			}
			docs = append(docs, memory.MessageDoc{ID: m.ID, UserID: u.ID, ConversationID: c.ID, Speaker: strings.TrimSpace(tm.Speaker),
				Role: string(role), Text: m.Content, Time: at})
			t.progress("stored", len(docs), total)
		}
		out.Conversations = append(out.Conversations, c.ID)
		out.Messages += kept
	}
	if err := t.indexMessages(ctx, docs, func(id string) { w.indexed = append(w.indexed, id) }); err != nil {
		w.undo()
		return TranscriptImport{}, fmt.Errorf("%w; nothing was imported", err)
	}
	// Indexed, not extracted: extraction (by the caller, or later by the
	// server's memory worker) starts from the first message.
	if err := w.mark(ctx, last, false); err != nil {
		w.undo()
		return TranscriptImport{}, fmt.Errorf("%w; nothing was imported", err)
	}
	out.Indexed = len(docs)
	return out, nil
}

// transcriptConflicts names the first message ID of tr that is taken in this
// database, by any user: messages.id is unique across the whole database.
func (t *Transfer) transcriptConflicts(ctx context.Context, tr *Transcript) error {
	users, err := t.Core.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("import transcript: %w", err)
	}
	for _, s := range tr.Sessions {
		for _, m := range s.Messages {
			for _, owner := range users {
				_, err := t.Core.Message(ctx, owner.ID, m.ID)
				if err == nil {
					return fmt.Errorf("message id %q is %w in this database (message ids are unique across all users); nothing was imported — rename it in the file, or import into a fresh data directory",
						m.ID, ErrConflict)
				}
				if !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("import transcript: %w", err)
				}
			}
		}
	}
	return nil
}
