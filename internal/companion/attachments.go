package companion

import (
	"context"
	"errors"
	"strings"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// Attachments is the attachment store the companion needs (attach.Store):
// a user's message is stored with its files in one transaction, and the
// prompt reads them back.
type Attachments interface {
	AppendMessage(ctx context.Context, m store.Message, atts []attach.Attachment) error
	Attachment(ctx context.Context, userID, id string) (attach.Attachment, error)
	List(ctx context.Context, userID string, messageIDs []string) (map[string][]attach.Attachment, error)
}

// ErrNoAttachments: files were sent to a companion built without an attachment store.
var ErrNoAttachments = errors.New("this server does not take attachments")

// ImageTurns is how many of the newest user messages in the prompt carry
// their images as image parts; older ones keep only "[Image attached: name]",
// because pictures cost a model many tokens and matter most while new.
const ImageTurns = 2

// imageTokens is what one image is counted as in the prompt budget (a
// typical vision model spends several hundred to a few thousand).
const imageTokens = 800

// validateSend checks a message's text and files before anything is
// stored. With files the text may be empty.
func (c *Companion) validateSend(text string, files []attach.Upload) error {
	err := ValidateText(text)
	if len(files) == 0 || (err != nil && !errors.Is(err, ErrEmptyMessage)) {
		return err
	}
	if c.attach == nil {
		return ErrNoAttachments
	}
	_, err = attach.Check(files)
	return err
}

// appendUserMessage stores msg, and its files in the same transaction; it
// returns the stored attachments' descriptions (without data).
func (c *Companion) appendUserMessage(ctx context.Context, msg store.Message, files []attach.Upload) ([]attach.Attachment, error) {
	if len(files) == 0 {
		return nil, c.store.AppendMessage(ctx, msg)
	}
	if c.attach == nil {
		return nil, ErrNoAttachments
	}
	atts, err := attach.Check(files)
	if err != nil {
		return nil, err
	}
	for i := range atts {
		atts[i].ID = c.ids.NewID("att_")
	}
	if err := c.attach.AppendMessage(ctx, msg, atts); err != nil {
		return nil, err
	}
	out := make([]attach.Attachment, len(atts))
	for i, a := range atts {
		a.UserID, a.ConversationID, a.MessageID, a.CreatedAt, a.Data = msg.UserID, msg.ConversationID, msg.ID, msg.CreatedAt, nil
		out[i] = a
	}
	return out, nil
}

// historyWithAttachments is buildHistory with the user's files in their
// messages: text files quoted under their names, images named, and the
// images of the newest ImageTurns user messages sent as image parts. It
// trims only the prompt; a store that fails leaves the files out (logged)
// rather than the reply.
// listed is which messages have files (listAttachments), read while the
// turn waits for its prompt slots.
func (c *Companion) historyWithAttachments(ctx context.Context, userID string, msgs []store.Message, budget int, listed <-chan attachList) ([]llm.Message, bool) {
	if c.attach == nil || listed == nil {
		return buildHistory(msgs, budget)
	}
	var userIdx []int
	for i, m := range msgs {
		if m.Role == store.RoleUser {
			userIdx = append(userIdx, i)
		}
	}
	l := <-listed
	files, err := l.listed, l.err
	if err != nil || len(files) == 0 {
		if err != nil {
			c.log.Warn("attachments left out of the prompt", "user", userID, "err", err)
		}
		return buildHistory(msgs, budget)
	}
	expanded := append([]store.Message(nil), msgs...)
	images := map[int][]llm.Image{} // index in msgs → its image parts
	for n, i := range userIdx {
		atts := files[msgs[i].ID]
		if len(atts) == 0 {
			continue
		}
		withImages := n >= len(userIdx)-ImageTurns
		full := make([]attach.Attachment, 0, len(atts))
		for _, a := range atts {
			if a.IsImage() && !withImages {
				full = append(full, a) // named only: no need for its bytes
				continue
			}
			got, err := c.attach.Attachment(ctx, userID, a.ID)
			if err != nil {
				c.log.Warn("attachment left out of the prompt", "attachment", a.ID, "err", err)
				continue
			}
			full = append(full, got)
		}
		text, ims := attach.ForModel(msgs[i].Content, full, withImages)
		expanded[i].Content = text
		if len(ims) > 0 {
			images[i] = ims
			budget -= imageTokens * len(ims)
		}
	}
	history, all := buildHistory(expanded, max(budget, 256))
	// buildHistory keeps the newest user messages, one prompt message each,
	// in order: match them from the end, checking that the text is theirs
	// (the newest may be shortened, never changed at its start).
	h := len(history) - 1
	for n := len(userIdx) - 1; n >= 0 && h >= 0; n-- {
		for h >= 0 && history[h].Role != llm.RoleUser {
			h--
		}
		if h < 0 {
			break
		}
		i := userIdx[n]
		if ims := images[i]; len(ims) > 0 && strings.HasPrefix(history[h].Content, head(expanded[i].Content, 64)) {
			history[h].Images = ims
		}
		h--
	}
	return history, all
}

// attachList is the files of a history's user messages, by message id.
type attachList struct {
	listed map[string][]attach.Attachment
	err    error
}

// listAttachments lists, in the background, the files of msgs' user
// messages; nil without an attachment store.
func (c *Companion) listAttachments(ctx context.Context, userID string, msgs []store.Message) <-chan attachList {
	if c.attach == nil {
		return nil
	}
	var ids []string
	for _, m := range msgs {
		if m.Role == store.RoleUser {
			ids = append(ids, m.ID)
		}
	}
	out := make(chan attachList, 1)
	go func() {
		var l attachList
		defer func() { out <- l }()
		if !c.safely("list attachments", func() { l.listed, l.err = c.attach.List(ctx, userID, ids) }) {
			l.err = errors.New("listing attachments panicked") // logged by safely
		}
	}()
	return out
}

// head is s's first n bytes, cut at a character boundary.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
