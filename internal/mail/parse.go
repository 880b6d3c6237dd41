package mail

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	message "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // every charset go-message knows
	gomail "github.com/emersion/go-message/mail"
)

// Limits Parse holds to whatever the message says, so a hostile or broken
// message costs bounded memory.
const (
	// MaxHeaderBytes caps a message's whole header block (a 1 MB subject
	// still fits; go-message's own default is 1 MB).
	MaxHeaderBytes = 4 << 20
	// maxSubject caps the stored subject (RFC 5322 lines are at most 998).
	maxSubject = 998
	// maxHeaderValue caps the other stored header values.
	maxHeaderValue = 2048
	// maxAddresses caps each address list.
	maxAddresses = 200
	// maxRefs caps References.
	maxRefs = 100
	// maxParts caps the parts listed and walked (a message of a million
	// empty parts stops here).
	maxParts = 500
	// maxDepth caps multipart nesting.
	maxDepth = 20
	// maxHTMLBytes caps the HTML read to make the text from: markup weighs
	// far more than its text, so this is a multiple of the text cap.
	maxHTMLFactor = 8
	minHTMLBytes  = 1 << 20
)

// Parse reads one RFC 5322 message and returns what os1 keeps of it: the
// headers, the readable text of the body capped at maxText bytes, and the
// attachments' names, types and sizes (their content is read through and
// counted, never kept). Nothing in the account's provenance (AccountID,
// Folder, UID) is set; Size is the number of bytes read from r.
//
// Text: the inline text/plain parts, joined; when there are none, the
// inline text/html parts turned into readable text by HTMLText (hidden
// elements dropped, links' text kept, never rendered). A part in an
// unknown charset is kept as its bytes made valid UTF-8; a body that ends
// early or breaks its MIME structure keeps the text read before the break.
// Only a header that cannot be read is an error.
//
// ThreadID is ThreadIDFor(the first References entry, else In-Reply-To,
// else the Message-ID): every message of a thread that carries References
// names its root first, so they share an id.
func Parse(r io.Reader, maxText int) (Message, error) {
	if maxText <= 0 {
		maxText = 1 << 20
	}
	cr := &countReader{r: r}
	e, err := message.ReadWithOptions(bufio.NewReader(cr), &message.ReadOptions{MaxHeaderBytes: MaxHeaderBytes})
	if e == nil {
		return Message{}, fmt.Errorf("mail: reading the message header: %w", err)
	}
	var m Message
	h := gomail.Header{Header: e.Header}
	parseHeader(&m, h)

	p := parser{maxText: maxText, maxHTML: max(maxText*maxHTMLFactor, minHTMLBytes)}
	p.walk(e, "", 0)
	// Read what is left so Size counts the whole message (bounded: io.Discard).
	_, _ = io.Copy(io.Discard, cr)

	if strings.TrimSpace(p.plain.String()) != "" {
		m.Text = p.plain.String()
	} else if p.html.Len() > 0 {
		m.Text = HTMLText(p.html.String(), maxText)
	}
	m.Text = capText(strings.TrimSpace(strings.ToValidUTF8(m.Text, "\uFFFD")), maxText)
	m.Parts = p.parts
	m.Size = cr.n
	return m, nil
}

func parseHeader(m *Message, h gomail.Header) {
	subj, err := h.Subject()
	if err != nil {
		subj = h.Get("Subject")
	}
	m.Subject = capText(oneLine(subj), maxSubject)
	m.From = first(addresses(h, "From"))
	if m.From.Email == "" {
		m.From = first(addresses(h, "Sender"))
	}
	m.To = addresses(h, "To")
	m.Cc = addresses(h, "Cc")
	m.ReplyTo = addresses(h, "Reply-To")
	if d, err := h.Date(); err == nil {
		m.Date = d.UTC()
	}
	m.MessageID = msgID(h, "Message-ID")
	m.InReplyTo = msgID(h, "In-Reply-To")
	m.References = msgIDs(h, "References")
	m.ListID = headerValue(h, "List-Id")
	m.ListUnsubscribe = headerValue(h, "List-Unsubscribe")
	m.ListUnsubscribePost = headerValue(h, "List-Unsubscribe-Post")
	m.AuthResults = headerValue(h, "Authentication-Results")
	m.Precedence = headerValue(h, "Precedence")
	root := m.MessageID
	if len(m.References) > 0 {
		root = m.References[0]
	} else if m.InReplyTo != "" {
		root = m.InReplyTo
	}
	if root == "" {
		// No ids at all: the sender, subject and date keep it stable.
		root = m.From.Email + "\x00" + m.Subject + "\x00" + m.Date.String()
	}
	m.ThreadID = ThreadIDFor(root)
}

// ThreadIDFor is the thread id of a thread whose root has the Message-ID
// id: a hash, so the id is stable across accounts and syncs and says
// nothing about the message.
func ThreadIDFor(id string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(id))))
	return "t" + hex.EncodeToString(sum[:10])
}

// headerValue is the first value of key as text (RFC 2047 decoded when it
// can be), on one line and capped.
func headerValue(h gomail.Header, key string) string {
	v, err := h.Text(key)
	if err != nil {
		v = h.Get(key)
	}
	return capText(oneLine(v), maxHeaderValue)
}

func addresses(h gomail.Header, key string) []Address {
	raw := h.Get(key)
	if raw == "" {
		return nil
	}
	var out []Address
	if list, err := h.AddressList(key); err == nil {
		for _, a := range list {
			if len(out) == maxAddresses {
				break
			}
			out = append(out, Address{Name: capText(oneLine(a.Name), maxHeaderValue), Email: capText(strings.TrimSpace(a.Address), maxHeaderValue)})
		}
		return out
	}
	// Malformed list: keep each piece that parses, or that at least looks
	// like an address.
	for _, piece := range strings.Split(raw, ",") {
		if len(out) == maxAddresses {
			break
		}
		if a, err := gomail.ParseAddress(piece); err == nil {
			out = append(out, Address{Name: capText(oneLine(a.Name), maxHeaderValue), Email: capText(a.Address, maxHeaderValue)})
			continue
		}
		s := strings.Trim(strings.TrimSpace(piece), "<>\"")
		if i := strings.LastIndexByte(s, '<'); i >= 0 {
			s = strings.TrimRight(s[i+1:], ">")
		}
		if at := strings.IndexByte(s, '@'); at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t") {
			out = append(out, Address{Email: capText(strings.ToValidUTF8(s, ""), maxHeaderValue)})
		}
	}
	return out
}

func first(as []Address) Address {
	if len(as) == 0 {
		return Address{}
	}
	return as[0]
}

func msgID(h gomail.Header, key string) string {
	if _, err := h.MsgIDList(key); err != nil {
		// Malformed (no brackets): the whole value is the id.
		return capText(oneLine(strings.Trim(strings.TrimSpace(h.Get(key)), "<>")), maxHeaderValue)
	}
	ids := msgIDs(h, key)
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

func msgIDs(h gomail.Header, key string) []string {
	raw := h.Get(key)
	if raw == "" {
		return nil
	}
	ids, err := h.MsgIDList(key)
	if err != nil || len(ids) == 0 {
		// Malformed: take the words, without their brackets.
		ids = strings.Fields(raw)
	}
	var out []string
	for _, id := range ids {
		id = strings.Trim(strings.TrimSpace(id), "<>")
		if id == "" {
			continue
		}
		if len(out) == maxRefs {
			break
		}
		out = append(out, capText(strings.ToValidUTF8(id, ""), maxHeaderValue))
	}
	return out
}

type parser struct {
	maxText, maxHTML int
	plain, html      strings.Builder
	parts            []Part
	walked           int
}

// walk reads entity e, whose IMAP section is path ("" for the message
// itself), to its end.
func (p *parser) walk(e *message.Entity, path string, depth int) {
	p.walked++
	if p.walked > maxParts || depth > maxDepth {
		_, _ = io.Copy(io.Discard, e.Body)
		return
	}
	if mr := e.MultipartReader(); mr != nil {
		for i := 1; ; i++ {
			part, err := mr.NextPart()
			if part == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
				// io.EOF, or a broken structure: keep what was read.
				return
			}
			p.walk(part, joinPath(path, i), depth+1)
		}
	}
	if path == "" {
		path = "1" // a single-part message's body is section 1
	}
	mediaType, params, _ := e.Header.ContentType()
	if mediaType == "" {
		mediaType = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if dec, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
		name = dec
	}
	attachment := strings.EqualFold(disp, "attachment") || name != ""
	switch {
	case !attachment && mediaType == "text/plain":
		p.readText(&p.plain, e.Body, p.maxText)
	case !attachment && mediaType == "text/html":
		p.readText(&p.html, e.Body, p.maxHTML)
	default:
		n, _ := io.Copy(io.Discard, e.Body)
		if len(p.parts) < maxParts {
			p.parts = append(p.parts, Part{
				Name:   capText(oneLine(strings.ToValidUTF8(name, "\uFFFD")), maxHeaderValue),
				MIME:   capText(mediaType, 255),
				Size:   n,
				Path:   path,
				Method: CalendarMethod(mediaType, params),
			})
		}
	}
}

// readText appends up to limit bytes of r to b (parts after the first one
// start on a new paragraph) and reads the rest through.
func (p *parser) readText(b *strings.Builder, r io.Reader, limit int) {
	room := limit - b.Len()
	if room > 0 {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		_, _ = io.Copy(b, io.LimitReader(r, int64(room)))
	}
	_, _ = io.Copy(io.Discard, r)
}

func joinPath(path string, i int) string {
	if path == "" {
		return strconv.Itoa(i)
	}
	return path + "." + strconv.Itoa(i)
}

// oneLine unfolds a header value: line breaks and tabs become spaces.
func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n\t") {
		s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ").Replace(s)
	}
	return strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
}

// capText cuts s to at most n bytes without splitting a UTF-8 sequence.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
