package contacts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-vcard"
)

// RelationField is the vCard property os1 keeps a contact's relation to
// the user in ("sister"); other apps keep it as it is.
const RelationField = "X-OS1-RELATION"

// CardError is one card of a file that could not be read.
type CardError struct {
	Index int    // 1-based position in the file
	Name  string // its FN when one could be read
	Err   error
}

func (e CardError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("card %d (%s): %v", e.Index, e.Name, e.Err)
	}
	return fmt.Sprintf("card %d: %v", e.Index, e.Err)
}

func (e CardError) Unwrap() error { return e.Err }

// ErrNotVCard is a file without a single BEGIN:VCARD.
var ErrNotVCard = errors.New("this is not a vCard file (no BEGIN:VCARD)")

// ParseVCF reads every card of a .vcf file. A card that cannot be read is
// reported in bad with the reason, and the others are all returned; only a
// file with no card at all is an error. It never panics.
func ParseVCF(r io.Reader) (cs []Contact, bad []CardError, err error) {
	blocks, err := splitCards(r)
	if err != nil {
		return nil, nil, err
	}
	if len(blocks) == 0 {
		return nil, nil, ErrNotVCard
	}
	for i, b := range blocks {
		c, err := ParseCard(b.text)
		if err == nil && !b.ended {
			err = errors.New("the card has no END:VCARD")
		}
		if err != nil {
			bad = append(bad, CardError{Index: i + 1, Name: c.Name, Err: err})
			continue
		}
		cs = append(cs, c)
	}
	return cs, bad, nil
}

type block struct {
	text  string
	ended bool
}

// splitCards cuts a file into its cards' text, so one broken card does
// not stop the decoder from reading the next.
func splitCards(r io.Reader) ([]block, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []block
	var cur *strings.Builder
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.EqualFold(strings.TrimSpace(line), "BEGIN:VCARD"):
			if cur != nil { // a card that never ended
				out = append(out, block{text: cur.String()})
			}
			cur = &strings.Builder{}
			cur.WriteString("BEGIN:VCARD\r\n")
		case cur != nil && strings.EqualFold(strings.TrimSpace(line), "END:VCARD"):
			cur.WriteString("END:VCARD\r\n")
			out = append(out, block{text: cur.String(), ended: true})
			cur = nil
		case cur != nil:
			cur.WriteString(line)
			cur.WriteString("\r\n")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the vCard file: %w", err)
	}
	if cur != nil {
		out = append(out, block{text: cur.String()})
	}
	return out, nil
}

// ParseCard reads one card's text into a contact (no ID, user or source).
func ParseCard(text string) (c Contact, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the card cannot be read (%v)", p)
		}
	}()
	card, err := vcard.NewDecoder(strings.NewReader(text)).Decode()
	if err != nil {
		return c, fmt.Errorf("the card cannot be read: %w", err)
	}
	return FromCard(card)
}

// FromCard reads a decoded card into a contact, keeping the card's text
// in Card; a card without a name, or with a field os1 refuses (an email
// without @, a date that is no date), is an error.
func FromCard(card vcard.Card) (c Contact, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the card cannot be read (%v)", p)
		}
	}()
	c.UID = strings.TrimSpace(card.Value(vcard.FieldUID))
	c.Name = oneLine(card.PreferredValue(vcard.FieldFormattedName))
	if c.Name == "" {
		if n := card.Name(); n != nil {
			c.Name = oneLine(strings.Join(nonEmpty(n.HonorificPrefix, n.GivenName, n.AdditionalName, n.FamilyName, n.HonorificSuffix), " "))
		}
	}
	if c.Name == "" {
		return c, errors.New("the card has no name (FN or N)")
	}
	for _, f := range card[vcard.FieldNickname] {
		for _, n := range strings.Split(f.Value, ",") {
			if n = oneLine(n); n != "" {
				c.OtherNames = append(c.OtherNames, n)
			}
		}
	}
	for _, f := range card[vcard.FieldEmail] {
		c.Handles = append(c.Handles, Handle{Kind: Email, Value: oneLine(f.Value), Label: label(f)})
	}
	for _, f := range card[vcard.FieldTelephone] {
		v := oneLine(strings.TrimPrefix(strings.TrimPrefix(f.Value, "tel:"), "TEL:"))
		c.Handles = append(c.Handles, Handle{Kind: Phone, Value: v, Label: label(f)})
	}
	for _, f := range card[vcard.FieldAddress] {
		parts := strings.Split(f.Value, ";")
		for i := range parts {
			parts[i] = strings.Join(strings.Fields(parts[i]), " ")
		}
		if v := strings.Join(nonEmpty(parts...), ", "); v != "" {
			c.Handles = append(c.Handles, Handle{Kind: Address, Value: v, Label: label(f)})
		}
	}
	c.Birthday = card.Value(vcard.FieldBirthday)
	c.Relation = oneLine(card.Value(RelationField))
	c.Notes = card.Value(vcard.FieldNote)
	var buf bytes.Buffer
	ensureVersion(card)
	if err := vcard.NewEncoder(&buf).Encode(card); err != nil {
		return c, fmt.Errorf("the card cannot be written back: %w", err)
	}
	c.Card = buf.String()
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func ensureVersion(card vcard.Card) {
	if card.Get(vcard.FieldVersion) == nil {
		card.SetValue(vcard.FieldVersion, "3.0")
	}
}

// label is a field's first TYPE that says where (home, work, cell…).
func label(f *vcard.Field) string {
	for _, t := range f.Params.Types() {
		switch t = strings.ToLower(t); t {
		case "pref", "internet", "voice", "x400":
		default:
			return t
		}
	}
	return ""
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ToCard is the contact as a vCard: its Card (what the server last sent)
// with os1's fields written over it, so the fields os1 does not know
// (photo, organisation…) stay as they were. A handle the card already
// holds keeps its field (and parameters).
func ToCard(c Contact) vcard.Card {
	card := vcard.Card{}
	if c.Card != "" {
		if old, err := vcard.NewDecoder(strings.NewReader(c.Card)).Decode(); err == nil {
			card = old
		}
	}
	ensureVersion(card)
	card.SetValue(vcard.FieldUID, c.UID)
	card.SetValue(vcard.FieldFormattedName, c.Name)
	if n := card.Name(); n == nil || oneLine(strings.Join(nonEmpty(n.GivenName, n.AdditionalName, n.FamilyName), " ")) != c.Name {
		given, family := c.Name, ""
		if i := strings.LastIndexByte(c.Name, ' '); i > 0 {
			given, family = c.Name[:i], c.Name[i+1:]
		}
		card.SetName(&vcard.Name{GivenName: noSemi(given), FamilyName: noSemi(family)})
	}
	delete(card, vcard.FieldNickname)
	for _, n := range c.OtherNames {
		card.AddValue(vcard.FieldNickname, n)
	}
	old := map[string][]*vcard.Field{}
	for _, k := range []string{vcard.FieldEmail, vcard.FieldTelephone, vcard.FieldAddress} {
		old[k] = card[k]
		delete(card, k)
	}
	for _, h := range c.Handles {
		k, v := vcard.FieldEmail, h.Value
		switch h.Kind {
		case Phone:
			k = vcard.FieldTelephone
		case Address:
			k, v = vcard.FieldAddress, ";;"+noSemi(strings.ReplaceAll(h.Value, "\n", ", "))+";;;;"
		}
		f := &vcard.Field{Value: v, Params: vcard.Params{}}
		if i := slices.IndexFunc(old[k], func(o *vcard.Field) bool { return o != nil && sameHandle(k, o.Value, v) }); i >= 0 {
			f = old[k][i]
			old[k][i] = nil
			if h.Label != label(f) {
				f.Params = vcard.Params{}
			}
		}
		if h.Label != "" && label(f) != h.Label {
			f.Params.Set(vcard.ParamType, h.Label)
		}
		card.Add(k, f)
	}
	bday := c.Birthday
	if v := card.Value(vcard.FieldVersion); strings.HasPrefix(v, "4") && bday != "" {
		// vCard 4 writes dates in ISO 8601's basic form: 19900412, --0412.
		bday = "--" + strings.ReplaceAll(strings.TrimPrefix(bday, "--"), "-", "")
		if !strings.HasPrefix(c.Birthday, "--") {
			bday = strings.TrimPrefix(bday, "--")
		}
	}
	setOrDelete(card, vcard.FieldBirthday, bday)
	setOrDelete(card, RelationField, c.Relation)
	setOrDelete(card, vcard.FieldNote, c.Notes)
	return card
}

func sameHandle(k, a, b string) bool {
	if k == vcard.FieldAddress {
		return strings.EqualFold(strings.Join(nonEmpty(strings.Split(a, ";")...), ", "), strings.Join(nonEmpty(strings.Split(b, ";")...), ", "))
	}
	return strings.EqualFold(strings.TrimPrefix(a, "tel:"), b)
}

func noSemi(s string) string { return strings.ReplaceAll(s, ";", ",") }

func setOrDelete(card vcard.Card, k, v string) {
	if v == "" {
		delete(card, k)
		return
	}
	card.SetValue(k, v)
}

// WriteVCF writes contacts as a .vcf file.
func WriteVCF(w io.Writer, cs []Contact) error {
	enc := vcard.NewEncoder(w)
	for _, c := range cs {
		if err := enc.Encode(ToCard(c)); err != nil {
			return fmt.Errorf("write the card of %q: %w", c.Name, err)
		}
	}
	return nil
}
