// Package mail is os1's mail companion: each user's own IMAP + SMTP accounts,
// synced into os1's database, triaged (a category, an importance with a stated
// reason, a one-line summary), searchable by recall, and acted on only with
// the user's approval.
//
// The package holds the domain types and the small interfaces the rest of
// the package uses; backends live in subpackages (sqlitemail), the IMAP sync
// in imapsync, sending in smtpsend, and mailtest is the contract suite every
// Store backend passes.
//
// Email is untrusted content. Nothing in a message may trigger an action:
// text from a message reaches the model only quoted inside delimited blocks
// (Quote), and every tool that acts for the user declares side effects and
// waits for the user's approval.
package mail

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Errors the store and the engines return; callers match them with errors.Is.
var (
	// ErrNotFound means no such account, folder or message for this user.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the account already exists (same user and address).
	ErrConflict = errors.New("already exists")
	// ErrAuth means the mail server refused the account's credentials.
	ErrAuth = errors.New("the mail server refused the login")
)

// Security is how a connection to a mail server is protected.
type Security string

const (
	// TLS connects with TLS from the first byte (IMAPS 993, SMTPS 465).
	TLS Security = "tls"
	// StartTLS upgrades a plain connection (IMAP 143, submission 587).
	StartTLS Security = "starttls"
	// Plain is no encryption; allowed only to a loopback address (tests,
	// a local bridge such as Proton Bridge).
	Plain Security = "none"
)

// AuthKind is how os1 signs in to the servers.
type AuthKind string

const (
	// AuthPassword is a password or app password (SASL PLAIN / LOGIN).
	AuthPassword AuthKind = "password"
	// AuthOAuth2 is XOAUTH2 with an access token refreshed from a stored
	// refresh token.
	AuthOAuth2 AuthKind = "xoauth2"
)

// Endpoint is one server of an account.
type Endpoint struct {
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	Security Security `json:"security"`
}

// Account is one mail account of one user. Secret holds the sealed
// credentials (secret.Box: a password, or an OAuth token as JSON); it is
// never sent to a client nor logged.
type Account struct {
	ID       string   `json:"id"`
	UserID   string   `json:"-"`
	Name     string   `json:"name"`    // the user's label, "Work"
	Address  string   `json:"address"` // the user's own address on it
	IMAP     Endpoint `json:"imap"`
	SMTP     Endpoint `json:"smtp"`
	Username string   `json:"username"`
	Auth     AuthKind `json:"auth"`
	Secret   string   `json:"-"`
	// SyncDays is how far back the first sync reaches (default 90).
	SyncDays  int       `json:"sync_days"`
	CreatedAt time.Time `json:"created_at"`
	// LastSyncAt and LastError describe the last sync attempt.
	LastSyncAt time.Time `json:"last_sync_at,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
}

// DefaultSyncDays is how far back a first sync reaches by default.
const DefaultSyncDays = 90

// Folder is the sync state of one mailbox of an account.
type Folder struct {
	AccountID     string `json:"account_id"`
	Name          string `json:"name"`
	Role          Role   `json:"role,omitempty"`
	UIDValidity   uint32 `json:"uid_validity"`
	UIDNext       uint32 `json:"uid_next"`
	HighestModSeq uint64 `json:"highest_modseq,omitempty"`
	Messages      int    `json:"messages"`
	// SyncedTo is the oldest date the first sync has reached; the first
	// sync runs newest first, so a sync cut off resumes below it.
	SyncedTo time.Time `json:"synced_to,omitzero"`
	Complete bool      `json:"complete"` // the first sync reached SyncDays
}

// Role is what a folder is for (RFC 6154 special-use, or the name's guess).
type Role string

const (
	RoleInbox   Role = "inbox"
	RoleSent    Role = "sent"
	RoleArchive Role = "archive"
	RoleDrafts  Role = "drafts"
	RoleTrash   Role = "trash"
	RoleJunk    Role = "junk"
)

// Address is one mailbox in a header.
type Address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// String is `Name <email>` or the bare address.
func (a Address) String() string {
	if a.Name == "" {
		return a.Email
	}
	return a.Name + " <" + a.Email + ">"
}

// Part is an attachment's description; its content is fetched on demand.
type Part struct {
	Name string `json:"name"`
	MIME string `json:"mime"`
	Size int64  `json:"size"`
	// Path is the IMAP body section ("2", "1.3") to fetch it from.
	Path string `json:"path"`
	// Method is the iTIP method of a text/calendar part (REQUEST, CANCEL,
	// REPLY…): the message carries a calendar invitation (invite.go).
	Method string `json:"method,omitempty"`
}

// Message is one email as os1 keeps it: headers, the readable text of its
// body (HTML turned into text, never rendered), attachment descriptions, and
// where it lives on the server (provenance for recall).
type Message struct {
	ID          string    `json:"id"` // os1's id
	UserID      string    `json:"-"`
	AccountID   string    `json:"account_id"`
	Folder      string    `json:"folder"`
	UIDValidity uint32    `json:"uid_validity"`
	UID         uint32    `json:"uid"`
	MessageID   string    `json:"message_id"` // the Message-ID header, without <>
	InReplyTo   string    `json:"in_reply_to,omitempty"`
	References  []string  `json:"references,omitempty"`
	ThreadID    string    `json:"thread_id"`
	From        Address   `json:"from"`
	To          []Address `json:"to,omitempty"`
	Cc          []Address `json:"cc,omitempty"`
	ReplyTo     []Address `json:"reply_to,omitempty"`
	Subject     string    `json:"subject"`
	Date        time.Time `json:"date"`
	Text        string    `json:"text"`
	Parts       []Part    `json:"parts,omitempty"`
	Flags       []string  `json:"flags,omitempty"` // IMAP flags: \Seen, \Flagged, \Answered…
	Size        int64     `json:"size"`
	// List headers, used by triage and unsubscribe.
	ListID              string `json:"list_id,omitempty"`
	ListUnsubscribe     string `json:"list_unsubscribe,omitempty"`
	ListUnsubscribePost string `json:"list_unsubscribe_post,omitempty"`
	// AuthResults is the receiving server's Authentication-Results verdict
	// (spf/dkim/dmarc pass or fail), when present.
	AuthResults string `json:"auth_results,omitempty"`
	// Precedence is the Precedence header ("bulk", "list", "junk"), a
	// newsletter's mark for triage.
	Precedence string `json:"precedence,omitempty"`
	Triage     Triage `json:"triage"`
}

// HasFlag reports whether m carries flag (case-insensitive).
func (m Message) HasFlag(flag string) bool {
	for _, f := range m.Flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// Standard IMAP flags.
const (
	FlagSeen     = `\Seen`
	FlagFlagged  = `\Flagged`
	FlagAnswered = `\Answered`
	FlagDeleted  = `\Deleted`
)

// Category is triage's answer to "what is this?".
type Category string

const (
	NeedsReply   Category = "needs_reply"
	Waiting      Category = "waiting"
	FYI          Category = "fyi"
	Newsletter   Category = "newsletter"
	Receipt      Category = "receipt"
	Notification Category = "notification"
	Spam         Category = "spam"
)

// Categories lists every category in the order the inbox shows them.
var Categories = []Category{NeedsReply, Waiting, FYI, Newsletter, Receipt, Notification, Spam}

// Triage is what os1 made of a message. Reason states why in words the user
// can check ("from your sister", "deadline Friday"); By says who decided
// ("rules", "model", or "rule:<id>" when a user's rule did).
type Triage struct {
	Category   Category  `json:"category,omitempty"`
	Importance float64   `json:"importance"` // 0..1
	Reason     string    `json:"reason,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	By         string    `json:"by,omitempty"`
	At         time.Time `json:"at,omitzero"`
	// Archive is a user's rule's decision to move it out of the inbox.
	Archive bool `json:"archive,omitempty"`
}

// Triaged reports whether triage has run on the message.
func (t Triage) Triaged() bool { return !t.At.IsZero() }

// Rule is one of the user's mail rules in plain words ("archive newsletters
// unless they're from the climbing club"), with what os1 understood of it.
type Rule struct {
	ID     string `json:"id"`
	UserID string `json:"-"`
	// Text is what the user wrote.
	Text string `json:"text"`
	// Understood is the rule as os1 will apply it, shown back to the user.
	Understood RuleSpec  `json:"understood"`
	Enabled    bool      `json:"enabled"`
	CreatedAt  time.Time `json:"created_at"`
}

// RuleSpec is a rule in structured form: when a message matches every
// non-empty condition (and none of the Unless ones), the action applies.
type RuleSpec struct {
	// Conditions.
	From       []string   `json:"from,omitempty"`       // address or domain or name substrings
	Subject    []string   `json:"subject,omitempty"`    // words in the subject
	Words      []string   `json:"words,omitempty"`      // words anywhere
	Categories []Category `json:"categories,omitempty"` // triage categories
	// Unless: a message that matches any of these is left alone.
	UnlessFrom []string `json:"unless_from,omitempty"`
	// Actions.
	Category  Category `json:"category,omitempty"`  // set the category
	Important *bool    `json:"important,omitempty"` // mark important (true) or not (false)
	Archive   bool     `json:"archive,omitempty"`
	// Summary is the understood rule in words, shown to the user.
	Summary string `json:"summary"`
}

// Query selects messages for a listing.
type Query struct {
	AccountID string
	Folder    string // empty: every folder
	Category  Category
	Unread    bool
	Before    time.Time // Date before (paging); zero: newest
	Limit     int       // default 50, at most 500
	ThreadID  string
}

// Limits of a listing (Query.Limit, Untriaged, Search): a limit of 0 or
// less means DefaultLimit, one above MaxLimit means MaxLimit.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Store keeps mail per user. Every method is scoped by userID: another
// user's ids answer ErrNotFound. Implementations: sqlitemail.
type Store interface {
	CreateAccount(ctx context.Context, a Account) error
	Account(ctx context.Context, userID, id string) (Account, error)
	Accounts(ctx context.Context, userID string) ([]Account, error)
	// AllAccounts lists every user's accounts, for the background syncer.
	AllAccounts(ctx context.Context) ([]Account, error)
	UpdateAccount(ctx context.Context, a Account) error
	// DeleteAccount removes the account with its folders and messages.
	DeleteAccount(ctx context.Context, userID, id string) error

	Folders(ctx context.Context, userID, accountID string) ([]Folder, error)
	SaveFolder(ctx context.Context, userID string, f Folder) error
	// ResetFolder drops a folder's messages (UIDVALIDITY changed).
	ResetFolder(ctx context.Context, userID, accountID, folder string) error

	// PutMessages inserts or updates messages by (account, folder,
	// uid_validity, uid), keeping their os1 id and triage when they exist.
	// It sets each ms[i].ID to the message's stored id (a new message
	// without one gets a fresh id), all in one transaction.
	PutMessages(ctx context.Context, userID string, ms []Message) error
	Message(ctx context.Context, userID, id string) (Message, error)
	// MessageByUID finds a message by where it lives on the server.
	MessageByUID(ctx context.Context, userID, accountID, folder string, uid uint32) (Message, error)
	Messages(ctx context.Context, userID string, q Query) ([]Message, error)
	// SetFlags replaces a message's flags.
	SetFlags(ctx context.Context, userID, id string, flags []string) error
	// MoveMessage records that a message now lives in folder under uid.
	MoveMessage(ctx context.Context, userID, id, folder string, uid uint32) error
	DeleteMessages(ctx context.Context, userID string, ids []string) error
	// Untriaged lists messages triage has not seen yet, newest first.
	Untriaged(ctx context.Context, userID string, limit int) ([]Message, error)
	SetTriage(ctx context.Context, userID, id string, t Triage) error
	// Search is full-text search over subject, sender and text.
	Search(ctx context.Context, userID, query string, limit int) ([]Message, error)

	Rules(ctx context.Context, userID string) ([]Rule, error)
	SaveRule(ctx context.Context, r Rule) error
	DeleteRule(ctx context.Context, userID, id string) error
}

// Credentials are an account's secret once opened: a password, or OAuth
// tokens. They are sealed (secret.Box) into Account.Secret as JSON and
// opened only to sign in.
type Credentials struct {
	Password string `json:"password,omitempty"`
	// Provider names the OAuth provider ([[mail.oauth]]) that renews AccessToken.
	Provider     string    `json:"provider,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}
