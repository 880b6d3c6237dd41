package companion

// A conversation's settings, as the user changes them from the list and the
// header: its title, pin, archive and (for the owner) its model.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// Errors of UpdateConversation.
var (
	ErrEmptyTitle = errors.New("title is empty")
	// ErrModelOwnerOnly: only the owner picks a conversation's model; a
	// member's conversations use the server's model.
	ErrModelOwnerOnly = errors.New("only the owner can pick the model")
	// ErrUnknownModel: the provider lists its models and this is not one.
	ErrUnknownModel = errors.New("the model server does not list that model")
	ErrBadModelName = errors.New("model name must be one line of at most 200 characters")
)

// ConversationChange is what a user changes about a conversation; nil
// fields stay as they are.
type ConversationChange struct {
	Title    *string // the user's title; it is never replaced by the model's
	Pinned   *bool
	Archived *bool
	Model    *string // "" for the server's model
}

// modelLister is the optional side of Models that lists the provider's
// models (models.Manager has it).
type modelLister interface {
	List(ctx context.Context) ([]string, error)
}

// UpdateConversation applies ch to one of u's conversations, tells u's
// subscribers (EvConversationUpdated) and returns the conversation as
// stored. A title is cleaned like CreateConversation's and renames move
// the conversation to the top as before; pin, archive and model do not.
// store.ErrNotFound when the conversation is not u's.
func (c *Companion) UpdateConversation(ctx context.Context, u store.User, id string, ch ConversationChange) (store.Conversation, error) {
	var p store.ConversationPatch
	p.Pinned, p.Archived = ch.Pinned, ch.Archived
	if ch.Title != nil {
		t := textsafe.CleanTitle(*ch.Title)
		switch {
		case t == "":
			return store.Conversation{}, ErrEmptyTitle
		case len([]rune(t)) > MaxTitleRunes:
			return store.Conversation{}, ErrTitleTooLong
		}
		src := store.TitleFromUser
		p.Title, p.TitleSource = &t, &src
	}
	if ch.Model != nil {
		if err := c.checkModel(ctx, u, *ch.Model); err != nil {
			return store.Conversation{}, err
		}
		p.Model = ch.Model
	}
	now := c.clock.Now()
	err := func() error {
		c.titles.mu.Lock()
		defer c.titles.mu.Unlock()
		if p.Title != nil {
			if err := c.store.RenameConversation(ctx, u.ID, id, *p.Title, now); err != nil {
				return err
			}
		}
		return c.store.UpdateConversation(ctx, u.ID, id, p, now)
	}()
	if err != nil {
		return store.Conversation{}, fmt.Errorf("update conversation %s: %w", id, err)
	}
	conv, err := c.store.Conversation(ctx, u.ID, id)
	if err != nil {
		return store.Conversation{}, fmt.Errorf("read conversation %s: %w", id, err)
	}
	c.bus.Publish(ctx, u.ID, Event{Type: EvConversationUpdated, ConversationID: id, Conversation: &conv})
	return conv, nil
}

func (c *Companion) checkModel(ctx context.Context, u store.User, name string) error {
	if u.Role != store.RoleOwner {
		return ErrModelOwnerOnly
	}
	if name == "" {
		return nil
	}
	if len([]rune(name)) > 200 || textsafe.CleanTitle(name) != name {
		return ErrBadModelName
	}
	l, ok := c.models.(modelLister)
	if !ok {
		return nil
	}
	names, err := l.List(ctx)
	if err != nil {
		return nil // a server that cannot list its models may still serve this one
	}
	if !slices.Contains(names, name) {
		return fmt.Errorf("%w (%q)", ErrUnknownModel, name)
	}
	return nil
}

// conversationModel is the model the conversation's turns ask for: the one
// the owner picked for it, or "" for the provider's default. A conversation
// that cannot be read gets the default (the turn reports the store's error
// itself).
func (c *Companion) conversationModel(ctx context.Context, userID, convID string) string {
	conv, err := c.store.Conversation(ctx, userID, convID)
	if err != nil {
		return ""
	}
	return conv.Model
}
