// Package attach is what a user sends beside a message's text: text files,
// quoted into the prompt under their name, and images, shown to models that
// can see. It checks uploads (size, count, type sniffed from the bytes, never
// from the name), defines the store every backend implements (sqliteattach;
// attachtest is the contract suite), and turns stored attachments into the
// model's view of a message.
//
// It must never trust a file's name or the type a client claims, never keep
// an attachment apart from its message (both are stored or neither), and
// never show one user's attachment to another.
package attach

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// Limits, documented in docs/attachments.md.
const (
	MaxFiles     = 4         // attachments per message
	MaxTextBytes = 256 << 10 // one text file
	MaxImageSize = 5 << 20   // one image
	MaxNameRunes = 120       // a file name, after cleaning
	// MaxUpload bounds a whole send request with attachments: every file at
	// its limit, base64 (4/3) for JSON, and room for the text.
	MaxUpload = MaxFiles*MaxImageSize*4/3 + 1<<20
)

// Image types models accept; anything else that is not UTF-8 text is refused.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// TextMIME is the type of every text attachment: the content is UTF-8 text,
// whatever the name says (notes.md, main.go, data.csv).
const TextMIME = "text/plain; charset=utf-8"

// Sentinel errors; a check's error wraps one of them and names the file.
var (
	ErrTooMany     = errors.New("too many attachments")
	ErrTooBig      = errors.New("attachment too big")
	ErrUnsupported = errors.New("unsupported attachment type")
	ErrEmpty       = errors.New("attachment is empty")
	ErrNotFound    = store.ErrNotFound
)

// Upload is a file as the user sent it.
type Upload struct {
	Name string
	Data []byte
}

// Attachment is a stored file. Data is nil where only the description was read (List).
type Attachment struct {
	ID             string
	UserID         string
	ConversationID string
	MessageID      string
	Name           string
	MIME           string
	Size           int64
	Data           []byte
	CreatedAt      time.Time
}

// IsImage reports whether the attachment is an image (else it is text).
func (a Attachment) IsImage() bool { return imageTypes[a.MIME] }

// Store keeps attachments. Every query is scoped by the user: another
// user's attachment is ErrNotFound.
type Store interface {
	// AppendMessage stores m (as store.Messages.AppendMessage does) and its
	// attachments in one transaction; each attachment's UserID,
	// ConversationID and MessageID are m's.
	AppendMessage(ctx context.Context, m store.Message, atts []Attachment) error
	// Attachment returns one attachment with its data.
	Attachment(ctx context.Context, userID, id string) (Attachment, error)
	// List describes (without data) the attachments of the given messages,
	// by message ID, each in the order it was sent.
	List(ctx context.Context, userID string, messageIDs []string) (map[string][]Attachment, error)
}

// Check validates uploads and returns them as attachments without IDs:
// at most MaxFiles; images (PNG, JPEG, GIF, WebP, recognised from their
// bytes) up to MaxImageSize; anything else must be UTF-8 text without NUL
// or other binary control characters, up to MaxTextBytes. Errors name the
// file and say what to do, and wrap one of the sentinels.
func Check(ups []Upload) ([]Attachment, error) {
	if len(ups) > MaxFiles {
		return nil, fmt.Errorf("%d files attached; the limit is %d per message: %w", len(ups), MaxFiles, ErrTooMany)
	}
	out := make([]Attachment, 0, len(ups))
	for i, u := range ups {
		name := CleanName(u.Name, i)
		if len(u.Data) == 0 {
			return nil, fmt.Errorf("file %s is empty: %w", name, ErrEmpty)
		}
		mime := sniff(u.Data)
		switch {
		case imageTypes[mime]:
			if len(u.Data) > MaxImageSize {
				return nil, fmt.Errorf("file %s is %s; images can be at most %s: %w", name, Size(len(u.Data)), Size(MaxImageSize), ErrTooBig)
			}
		case mime == TextMIME:
			if len(u.Data) > MaxTextBytes {
				return nil, fmt.Errorf("file %s is %s; text files can be at most %s: %w", name, Size(len(u.Data)), Size(MaxTextBytes), ErrTooBig)
			}
		default:
			return nil, fmt.Errorf("file %s is neither a text file nor a PNG, JPEG, GIF or WebP image: %w", name, ErrUnsupported)
		}
		out = append(out, Attachment{Name: name, MIME: mime, Size: int64(len(u.Data)), Data: u.Data})
	}
	return out, nil
}

// sniff says what data is: one of imageTypes, TextMIME, or "" for anything else.
func sniff(data []byte) string {
	if t := http.DetectContentType(data); imageTypes[t] {
		return t
	}
	text := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(text) {
		return ""
	}
	for _, b := range text {
		if b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != '\f' && b != 0x1b {
			return "" // NUL and other control bytes: a binary file that happens to be valid UTF-8
		}
	}
	return TextMIME
}

// CleanName makes a client's file name safe to store and show: the last
// path element, one line without hidden characters, at most MaxNameRunes.
// An empty name becomes "file-N" (N counted from 1).
func CleanName(name string, i int) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = textsafe.CleanTitle(path.Base("/" + name))
	if name == "/" || name == "." || name == ".." {
		name = ""
	}
	if r := []rune(name); len(r) > MaxNameRunes {
		ext := path.Ext(name)
		if len([]rune(ext)) > 12 {
			ext = ""
		}
		name = string(r[:MaxNameRunes-len([]rune(ext))-1]) + "…" + ext
	}
	if name == "" {
		name = fmt.Sprintf("file-%d", i+1)
	}
	return name
}

// Size is n bytes in words for people: "312 bytes", "4.2 KB", "5 MB" (binary units).
func Size(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return trimZero(float64(n)/(1<<10)) + " KB"
	default:
		return trimZero(float64(n)/(1<<20)) + " MB"
	}
}

func trimZero(f float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", f), ".0")
}
