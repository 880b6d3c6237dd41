// Package store defines os1's durable data model and the interfaces every
// storage backend implements (SQLite today, PostgreSQL later).
//
// Every method that touches a user's data takes the user's ID and must scope
// its query by it: a row that belongs to another user is reported as
// ErrNotFound, never as ErrForbidden, so existence does not leak. A store must
// never drop or rewrite a stored message's content except through
// UpdateMessage, and must never log message content.
//
// Creating a row whose ID (or unique key) is taken is ErrConflict; creating a
// row for a user or conversation that does not exist, or is another user's,
// is ErrNotFound. Deleting a session or a setting that is already gone is not
// an error. A zero time.Time is stored and returned as zero.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrNotFound: no such row for this user.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique constraint (for example a taken username) failed.
	ErrConflict = errors.New("already exists")
)

// Role of a user account.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
)

// User is an account on this os1 server.
type User struct {
	ID           string
	Username     string // unique, lower-case
	DisplayName  string
	Role         Role
	PasswordHash string // argon2id PHC string
	CreatedAt    time.Time
	DisabledAt   time.Time // zero while the account may sign in
}

// Session is a browser login. Only the SHA-256 hash of the cookie value is stored.
type Session struct {
	TokenHash  string
	UserID     string
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero until touched; see TouchSession
	UserAgent  string    // of the last use, for the session list
	Address    string    // client address of the last use
}

// APIToken lets the CLI and scripts act as a user. Only the hash is stored.
type APIToken struct {
	ID         string
	UserID     string
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when never used
}

// Invite is a one-time link the owner hands to a new household member.
type Invite struct {
	TokenHash string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}

// PasswordReset is a one-time link that sets a user's password, made by the
// owner (or `os1 user reset-password`) for a member who forgot theirs.
type PasswordReset struct {
	TokenHash string
	UserID    string
	CreatedBy string // the owner's user ID; "" when made on the command line
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}

// Conversation groups messages.
type Conversation struct {
	ID        string
	UserID    string
	Title     string
	CreatedAt time.Time
	UpdatedAt time.Time
	// TitleSource says who wrote Title: TitleFromFirstMessage (""),
	// TitleFromModel or TitleFromUser.
	TitleSource string
	PinnedAt    time.Time // zero unless pinned
	ArchivedAt  time.Time // zero unless archived
	Model       string    // the model picked for this conversation; "" = the server's
}

// Who wrote a conversation's title.
const (
	TitleFromFirstMessage = ""
	TitleFromModel        = "model"
	TitleFromUser         = "user"
)

// ConversationPatch changes a conversation's settings. Nil fields are left
// alone. It does not move the conversation in the list (UpdatedAt stays).
type ConversationPatch struct {
	Title       *string
	TitleSource *string
	Pinned      *bool // true sets PinnedAt to the patch time, false clears it
	Archived    *bool // likewise ArchivedAt
	Model       *string
}

// MessageRole says who wrote a message.
type MessageRole string

const (
	RoleUser      MessageRole = "user"
	RoleAssistant MessageRole = "assistant"
	RoleTool      MessageRole = "tool"
)

// MessageStatus is the lifecycle state of a message.
type MessageStatus string

const (
	// StatusStreaming: an assistant reply is being written; content is flushed
	// periodically. After a crash, MarkInterrupted turns these into interrupted.
	StatusStreaming MessageStatus = "streaming"
	// StatusComplete: the message is whole.
	StatusComplete MessageStatus = "complete"
	// StatusInterrupted: the reply was cut off (cancel, barge-in, crash).
	StatusInterrupted MessageStatus = "interrupted"
	// StatusFailed: the model call failed; Error says why. A user message whose
	// turn failed is still complete; the failure is on the assistant message.
	StatusFailed MessageStatus = "failed"
)

// ToolCall is a model's request to run a tool, as stored on an assistant message.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// Message is one entry of a conversation. Content is exactly what was said.
type Message struct {
	ID             string
	ConversationID string
	UserID         string
	Role           MessageRole
	Content        string
	ToolCalls      []ToolCall // assistant messages that asked for tools
	ToolCallID     string     // tool messages: which call this answers
	Status         MessageStatus
	Error          string // failed messages: what went wrong, in words for the user
	// Reason says why os1 spoke without being asked (a reminder, a
	// proactive message); empty for replies to the user.
	Reason string
	// ParentID is the message before this one on its path ("" for the
	// first). AppendMessage fills it with the conversation's head when it is
	// empty; set it to start a branch (an edit, a regenerated reply), or to
	// BranchAtRoot to branch at the very first message.
	ParentID string
	// Reasoning is what the model thought before answering, kept apart from
	// Content: shown collapsed, never spoken, never fed to memory.
	Reasoning  string
	ThoughtFor time.Duration // how long the model thought (milliseconds stored)
	// Finish says why the reply ended when that matters: FinishLength when
	// the token limit cut it off; "" otherwise.
	Finish string
	// Channel is ChannelVoice for turns spoken on a call, "" for typed ones.
	Channel   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BranchAtRoot as a Message.ParentID starts a new first message.
const BranchAtRoot = "^"

// Message.Finish and Message.Channel values.
const (
	FinishLength = "length"
	ChannelVoice = "voice"
)

// MessageNode is a message's place in its conversation's tree of branches.
type MessageNode struct {
	ID       string
	ParentID string
	Role     MessageRole
}

// MessagePatch changes an existing message. Nil fields are left alone.
type MessagePatch struct {
	Content    *string
	Status     *MessageStatus
	Error      *string
	ToolCalls  []ToolCall // nil: unchanged
	Reasoning  *string
	ThoughtFor *time.Duration
	Finish     *string
}

// Persona is the companion as one user knows her. Each user has their own.
type Persona struct {
	UserID    string
	Name      string // chosen by the model; empty until named
	Voice     string // how she should sound, from the first meeting
	Style     string // free-form style notes the user can edit
	NamedAt   time.Time
	UpdatedAt time.Time
}

// Profile is what the first meeting learned about the user.
type Profile struct {
	UserID      string
	Answers     map[string]string // question key -> answer, e.g. "social", "matters", "sound"
	Timezone    string            // IANA name, e.g. "Europe/Berlin"; empty means server local
	OnboardedAt time.Time         // zero until the first meeting is finished
	UpdatedAt   time.Time
}

// Location is the user's time zone: Timezone when it names a zone this
// system knows, else the server's local zone. Every "what time is it for
// this user" question resolves here.
func (p Profile) Location() *time.Location {
	if p.Timezone != "" {
		if l, err := time.LoadLocation(p.Timezone); err == nil {
			return l
		}
	}
	return time.Local
}

// ActionStatus is the state of a side-effect tool call awaiting consent.
type ActionStatus string

const (
	ActionPending  ActionStatus = "pending"
	ActionApproved ActionStatus = "approved"
	ActionDenied   ActionStatus = "denied"
	ActionDone     ActionStatus = "done"
	ActionFailed   ActionStatus = "failed"
)

// Action is a side-effect tool call that waits for the user's confirmation.
type Action struct {
	ID             string
	UserID         string
	ConversationID string
	MessageID      string // the assistant message that asked for it
	ToolCallID     string
	Tool           string
	Arguments      json.RawMessage
	Status         ActionStatus
	Result         string
	CreatedAt      time.Time
	DecidedAt      time.Time
}

// Users stores accounts.
type Users interface {
	CreateUser(ctx context.Context, u User) error // ErrConflict on a taken username
	UserByID(ctx context.Context, id string) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	CountUsers(ctx context.Context) (int, error)
	SetPasswordHash(ctx context.Context, userID, hash string) error
	// SetUserDisabled disables the account at at; a zero at enables it again.
	// ErrNotFound for an unknown user.
	SetUserDisabled(ctx context.Context, userID string, at time.Time) error
	// DeleteUser removes the account and every row that belongs to it:
	// conversations, messages, actions, persona, profile, sessions, tokens,
	// invites and reset links it made, and settings scoped to it (a key that
	// ends in "."+ the user's ID or one of their conversations' IDs, the
	// convention for per-user settings). ErrNotFound for an unknown user.
	DeleteUser(ctx context.Context, userID string) error
}

// Sessions stores browser logins.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	SessionByHash(ctx context.Context, tokenHash string) (Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteUserSessions(ctx context.Context, userID string) error
	// DeleteOtherSessions removes every session of the user except the one
	// with keepHash ("" keeps none) and returns the hashes it removed.
	DeleteOtherSessions(ctx context.Context, userID, keepHash string) ([]string, error)
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
	// ListSessions returns the user's sessions, most recently used (or
	// created, when never used) first.
	ListSessions(ctx context.Context, userID string) ([]Session, error)
	// TouchSession records a use of the session at at, from userAgent and
	// address. ErrNotFound when the session is gone.
	TouchSession(ctx context.Context, tokenHash string, at time.Time, userAgent, address string) error
}

// Tokens stores API tokens.
type Tokens interface {
	CreateAPIToken(ctx context.Context, t APIToken) error
	APITokenByHash(ctx context.Context, tokenHash string) (APIToken, error)
	ListAPITokens(ctx context.Context, userID string) ([]APIToken, error)
	DeleteAPIToken(ctx context.Context, userID, id string) error // ErrNotFound if not the user's
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
}

// Invites stores one-time invitations.
type Invites interface {
	CreateInvite(ctx context.Context, in Invite) error
	// UseInvite marks the invite used if it exists, is unused and not expired at
	// now; otherwise ErrNotFound. It is atomic: only one caller can use an invite.
	UseInvite(ctx context.Context, tokenHash string, now time.Time) (Invite, error)
	// Invite returns the invite if it exists, is unused and not expired at
	// now, without using it; otherwise ErrNotFound.
	Invite(ctx context.Context, tokenHash string, now time.Time) (Invite, error)
}

// PasswordResets stores one-time password reset links.
type PasswordResets interface {
	// CreatePasswordReset stores a link and removes the user's older unused
	// ones: only the newest link works. ErrNotFound for an unknown user.
	CreatePasswordReset(ctx context.Context, pr PasswordReset) error
	// UsePasswordReset marks the link used if it exists, is unused and not
	// expired at now; otherwise ErrNotFound. Atomic like UseInvite.
	UsePasswordReset(ctx context.Context, tokenHash string, now time.Time) (PasswordReset, error)
}

// Conversations stores conversation headers.
type Conversations interface {
	CreateConversation(ctx context.Context, c Conversation) error
	Conversation(ctx context.Context, userID, id string) (Conversation, error)
	// ListConversations returns the user's conversations, most recently updated first.
	ListConversations(ctx context.Context, userID string) ([]Conversation, error)
	RenameConversation(ctx context.Context, userID, id, title string, at time.Time) error
	// UpdateConversation applies p at time at (for PinnedAt, ArchivedAt).
	UpdateConversation(ctx context.Context, userID, id string, p ConversationPatch, at time.Time) error
	DeleteConversation(ctx context.Context, userID, id string) error // deletes its messages and actions too
	// SearchConversations returns at most limit of the user's conversations
	// in which every word of q appears in the title or in the text of a user
	// or assistant message (any branch), most recently updated first. Words
	// match anywhere, ignoring the case of ASCII letters; an empty q matches
	// nothing.
	SearchConversations(ctx context.Context, userID, q string, limit int) ([]Conversation, error)
}

// Messages stores the episodic log.
type Messages interface {
	// AppendMessage stores m, makes it the conversation's head and bumps the
	// conversation's UpdatedAt. An empty ParentID means "after the head".
	// ErrNotFound if the conversation, or the parent in it, is not the user's.
	AppendMessage(ctx context.Context, m Message) error
	UpdateMessage(ctx context.Context, userID, id string, p MessagePatch, at time.Time) error
	Message(ctx context.Context, userID, id string) (Message, error)
	// Messages returns the messages of the conversation's current path (from
	// the first message to the head) in the order they were appended,
	// whatever their CreatedAt (a clock stepping back must not reorder a tool
	// call and its result). ErrNotFound if the conversation is not the user's.
	Messages(ctx context.Context, userID, conversationID string) ([]Message, error)
	// RecentMessages returns the last limit messages of the current path, in
	// the same order as Messages. ErrNotFound as Messages.
	RecentMessages(ctx context.Context, userID, conversationID string, limit int) ([]Message, error)
	// MessageTree returns every message of the conversation, on every
	// branch, in the order appended, without content.
	MessageTree(ctx context.Context, userID, conversationID string) ([]MessageNode, error)
	// ShowBranch moves the conversation's head to the newest message at or
	// below messageID, so Messages shows the path through it. ErrNotFound if
	// the message is not in the user's conversation.
	ShowBranch(ctx context.Context, userID, conversationID, messageID string) error
	// MarkInterrupted turns every message still streaming into interrupted;
	// run at start-up after a crash. Returns how many were changed.
	MarkInterrupted(ctx context.Context, at time.Time) (int, error)
}

// Personas stores each user's companion persona.
type Personas interface {
	Persona(ctx context.Context, userID string) (Persona, error) // ErrNotFound before the first meeting
	SavePersona(ctx context.Context, p Persona) error            // upsert
}

// Profiles stores what the first meeting learned.
type Profiles interface {
	Profile(ctx context.Context, userID string) (Profile, error) // ErrNotFound before the first meeting
	SaveProfile(ctx context.Context, p Profile) error            // upsert
}

// Actions stores side-effect tool calls awaiting consent.
type Actions interface {
	CreateAction(ctx context.Context, a Action) error
	Action(ctx context.Context, userID, id string) (Action, error)
	PendingActions(ctx context.Context, userID, conversationID string) ([]Action, error)
	// DecideAction moves a pending action to status (approved or denied)
	// atomically; ErrNotFound if it is not the user's or no longer pending.
	DecideAction(ctx context.Context, userID, id string, status ActionStatus, at time.Time) error
	FinishAction(ctx context.Context, userID, id string, status ActionStatus, result string) error
}

// Settings is a small server-wide key/value store (model connection, setup
// token hash). Values that are secrets are encrypted by the caller before
// they reach the store.
type Settings interface {
	Setting(ctx context.Context, key string) (string, error) // ErrNotFound when unset
	SetSetting(ctx context.Context, key, value string) error
	DeleteSetting(ctx context.Context, key string) error
}

// Store is everything os1 persists.
type Store interface {
	Users
	Sessions
	Tokens
	Invites
	PasswordResets
	Conversations
	Messages
	Personas
	Profiles
	Actions
	Settings
	// Ping checks the database answers.
	Ping(ctx context.Context) error
	Close() error
}
