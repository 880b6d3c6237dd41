package imapsync

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/os1ai/os1/internal/mail"
)

// MaxPart is the largest attachment FetchPart returns, decoded: what
// forwarding may carry (most servers refuse a bigger message anyway).
const MaxPart = 25 << 20

// ErrPartTooLarge means an attachment is bigger than MaxPart.
var ErrPartTooLarge = errors.New("the attachment is larger than os1 fetches (25 MB)")

// FetchPart fetches one attachment of message uid in folder: the body
// section path ("2", "1.3", as mail.Part.Path holds it), decoded from its
// transfer encoding. The content is streamed from the server and decoded
// as it arrives; past MaxPart bytes the fetch stops and ErrPartTooLarge is
// returned, so a huge part never sits whole in memory. The message is not
// marked read (BODY.PEEK).
func (e *Engine) FetchPart(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, uid uint32, path string) ([]byte, error) {
	return e.FetchPartUpTo(ctx, acct, creds, folder, uid, path, MaxPart)
}

// FetchPartUpTo is FetchPart with another cap than MaxPart (max decoded
// bytes); ErrPartTooLarge still says the part was refused.
func (e *Engine) FetchPartUpTo(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, uid uint32, path string, max int64) ([]byte, error) {
	if max <= 0 || max > MaxPart {
		max = MaxPart
	}
	part, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = e.session(ctx, acct, creds, folder, func(c *imapclient.Client) error {
		enc, err := partEncoding(c, uid, part, max)
		if err != nil {
			return err
		}
		// The server sends at most what MaxPart decoded can take in its
		// encoding (base64's 4 for 3 with line breaks), plus one byte to
		// tell "exactly the cap" from "more".
		limit := encodedLimit(enc, max)
		section := &imap.FetchItemBodySection{Peek: true, Part: part, Partial: &imap.SectionPartial{Offset: 0, Size: limit + 1}}
		cmd := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
		defer cmd.Close()
		found := false
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for item := msg.Next(); item != nil; item = msg.Next() {
				it, ok := item.(imapclient.FetchItemDataBodySection)
				if !ok || it.Literal == nil || found {
					continue
				}
				found = true
				if out, err = readDecoded(it.Literal, enc, max); err != nil {
					_, _ = io.Copy(io.Discard, it.Literal)
					return fmt.Errorf("fetching part %s of message %d in %s: %w", path, uid, folder, err)
				}
			}
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("fetching part %s of message %d in %s: %w", path, uid, folder, err)
		}
		if !found {
			return fmt.Errorf("message %d in %s has no part %s: %w", uid, folder, path, mail.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readDecoded decodes r's transfer encoding, refusing more than max
// decoded bytes.
func readDecoded(r io.Reader, enc string, max int64) ([]byte, error) {
	switch enc {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r) // skips the line breaks
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, ErrPartTooLarge
	}
	return data, nil
}

// partEncoding finds the transfer encoding of body part part of message
// uid from its BODYSTRUCTURE (lower case; "" for 7bit/8bit/binary).
func partEncoding(c *imapclient.Client, uid uint32, part []int, max int64) (string, error) {
	msgs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, BodyStructure: &imap.FetchItemBodyStructure{}}).Collect()
	if err != nil {
		return "", fmt.Errorf("reading the structure of message %d: %w", uid, err)
	}
	if len(msgs) == 0 || msgs[0].BodyStructure == nil {
		return "", fmt.Errorf("message %d: %w", uid, mail.ErrNotFound)
	}
	var sp *imap.BodyStructureSinglePart
	msgs[0].BodyStructure.Walk(func(p []int, bs imap.BodyStructure) bool {
		s, ok := bs.(*imap.BodyStructureSinglePart)
		// A message that is not multipart has one part, numbered 1.
		if ok && (slices.Equal(p, part) || len(p) == 0 && slices.Equal(part, []int{1})) {
			sp = s
			return false
		}
		return true
	})
	if sp == nil {
		return "", fmt.Errorf("message %d has no attachment at part %s: %w", uid, joinPath(part), mail.ErrNotFound)
	}
	enc := strings.ToLower(sp.Encoding)
	if int64(sp.Size) > encodedLimit(enc, max) {
		return "", ErrPartTooLarge
	}
	switch enc {
	case "base64", "quoted-printable":
		return enc, nil
	}
	return "", nil
}

// encodedLimit is the most bytes max decoded bytes take in encoding enc:
// base64 lines of 76 characters and CRLF carry 57 bytes; quoted-printable
// may triple a byte.
func encodedLimit(enc string, max int64) int64 {
	switch enc {
	case "base64":
		return max/57*78 + 1024
	case "quoted-printable":
		return max*3 + 1024
	}
	return max
}

func parsePath(path string) ([]int, error) {
	if path == "" {
		return nil, fmt.Errorf("an attachment needs its part number: %w", mail.ErrNotFound)
	}
	var out []int
	for _, s := range strings.Split(path, ".") {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("part number %q is not like \"2\" or \"1.3\"", path)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinPath(p []int) string {
	s := make([]string, len(p))
	for i, n := range p {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}
