package extract

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/os1ai/os1/internal/memory"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/store"
)

// applier writes one batch's operations through the guards. For each
// operation, in the order the model wrote them:
//
//  1. Cap (guard 3): after MaxItems writes the rest are dropped (OutCapped).
//  2. Shape: op is add, supersede or invalidate (else OutUnknownOp); kind is
//     one of the five; text has 2 to 400 characters and more than one word;
//     confidence is at least MinConfidence (else OutInvalid, OutLowConfidence).
//  3. Provenance (guard 4): sources are not empty and every one is a message
//     of this batch (else OutNoSource: the model cannot invent provenance).
//     Unless the kind is reflection, at least one source is a user message
//     (else OutAssistantOnly): what the companion said is her guess, not the
//     user's fact. A reflection is hers, so her messages may source it.
//  4. Target: supersede and invalidate name a current item of this user
//     (else OutBadTarget). Invalidating anything but a reflection needs a
//     user message among the sources, as in 3.
//  5. Duplicates (guard 2): an add whose folded text equals or is contained
//     in a current item's (the related ones, the full-text matches of its
//     text, those added earlier in the batch), or whose embedding has cosine
//     ≥ NearIdentical with one, is skipped (OutDuplicate); the existing item
//     stays as it is. A supersede whose text folds to its target's, or to
//     another current item's, is skipped too.
//  6. Echoes (guard 1): an add or supersede whose folded text is contained
//     in the system prompt text, in memory text recalled for the companion
//     (Echoes) or in the extraction instructions, or (adds, with an
//     embedder) has cosine ≥ NearIdentical with one of their lines, is
//     refused (OutEcho).
//
// "Folded" is normText: lower case, letters and digits, single spaces.
type applier struct {
	e            *Extractor
	b            Batch
	res          *Result
	related      []memory.Item
	instructions string // folded

	byID   map[string]store.Message
	echo   []knownText          // lines of the prompt text, then of recalled text, newest first
	known  []knownText          // current items
	vecs   map[string][]float32 // text -> embedding
	people map[string]string    // folded name -> entity ID
	writes int
}

// knownText is a text to compare against: an item or a line of a prompt.
type knownText struct {
	id, text, norm string
	vec            []float32
}

// maxEchoVectors bounds the prompt lines embedded per extraction.
const maxEchoVectors = 96

func (a *applier) run(ctx context.Context, ops []extractOp) error {
	a.byID, a.people, a.vecs = map[string]store.Message{}, map[string]string{}, map[string][]float32{}
	for _, m := range a.b.Messages {
		a.byID[m.ID] = m
	}
	recalled := a.e.d.Echoes.Recent(a.b.UserID)
	slices.Reverse(recalled)
	for _, t := range append(append(a.b.Prompt[:len(a.b.Prompt):len(a.b.Prompt)], recalled...), fmt.Sprintf(exampleMemory, cmp.Or(a.b.UserName, "the user"))) {
		for _, line := range strings.Split(t, "\n") {
			line = memory.SingleLine(strings.TrimLeft(strings.TrimSpace(line), "-*• "))
			if n := normText(line); n != "" {
				a.echo = append(a.echo, knownText{text: line, norm: n})
			}
		}
	}
	seen := map[string]bool{}
	addKnown := func(it memory.Item) {
		if !seen[it.ID] && it.Current() {
			seen[it.ID] = true
			a.known = append(a.known, knownText{id: it.ID, text: it.Text, norm: normText(it.Text)})
		}
	}
	for _, it := range a.related {
		addKnown(it)
	}
	var texts []string // to embed
	for _, o := range ops {
		if o.bad || strings.TrimSpace(o.Text) == "" {
			continue
		}
		texts = append(texts, memory.SingleLine(o.Text))
		if strings.EqualFold(strings.TrimSpace(o.Op), "add") {
			hits, err := a.e.d.Memory.SearchText(ctx, a.b.UserID, memory.Query{Text: o.Text, Limit: 5, Kinds: []memory.DocKind{memory.DocItem}})
			if err != nil {
				return fmt.Errorf("look for memories like %q: %w", memory.ClipRunes(o.Text, 60), err)
			}
			for _, h := range hits {
				if h.Item != nil {
					addKnown(*h.Item)
				}
			}
		}
	}
	if err := a.embed(ctx, texts); err != nil {
		return err
	}
	for _, o := range ops {
		outcome, err := a.apply(ctx, o)
		if err != nil {
			return err
		}
		a.res.Outcomes[outcome]++
	}
	return nil
}

// embed computes the vectors the guards and the store need, in one call.
func (a *applier) embed(ctx context.Context, texts []string) error {
	if a.e.d.Embedder == nil || len(texts) == 0 {
		return nil
	}
	n := len(texts)
	for _, k := range a.known {
		texts = append(texts, k.text)
	}
	echo := a.echo[:min(len(a.echo), maxEchoVectors)]
	for _, k := range echo {
		texts = append(texts, k.text)
	}
	vecs, err := a.e.d.Embedder.Embed(ctx, texts)
	if err != nil {
		return fmt.Errorf("embed %d texts: %w", len(texts), err)
	}
	if len(vecs) != len(texts) {
		return fmt.Errorf("embed %d texts: the embedder returned %d vectors", len(texts), len(vecs))
	}
	for i := range n {
		a.vecs[texts[i]] = vecs[i]
	}
	for i := range a.known {
		a.known[i].vec = vecs[n+i]
	}
	for i := range echo {
		a.echo[i].vec = vecs[n+len(a.known)+i]
	}
	return nil
}

var opKinds = map[string]memory.Kind{"fact": memory.KindFact, "event": memory.KindEvent, "preference": memory.KindPreference, "reflection": memory.KindReflection, "person": memory.KindPerson}

func (a *applier) apply(ctx context.Context, o extractOp) (string, error) {
	verb := strings.ToLower(strings.TrimSpace(o.Op))
	if o.bad {
		return OutInvalid, nil
	}
	if verb != "add" && verb != "supersede" && verb != "invalidate" {
		return OutUnknownOp, nil
	}
	if a.writes >= a.e.opts.MaxItems {
		return OutCapped, nil
	}
	if clamp01(o.Confidence, 1) < a.e.opts.MinConfidence {
		return OutLowConfidence, nil
	}
	var target memory.Item
	if verb != "add" {
		it, err := a.e.d.Memory.Item(ctx, a.b.UserID, strings.TrimSpace(o.Target))
		if errors.Is(err, memory.ErrNotFound) || (err == nil && !it.Current()) {
			return OutBadTarget, nil
		}
		if err != nil {
			return "", err
		}
		target = it
	}
	kind, ok := opKinds[strings.ToLower(strings.TrimSpace(o.Kind))]
	switch {
	case verb == "invalidate":
		kind = target.Kind
	case o.Kind == "" && verb == "supersede":
		kind = target.Kind
	case !ok:
		return OutInvalid, nil
	}
	sources, at, outcome := a.sources(o.Sources, kind)
	if outcome != "" {
		return outcome, nil
	}
	if verb == "invalidate" {
		if err := a.e.d.Memory.Invalidate(ctx, a.b.UserID, target.ID, at); err != nil {
			return "", fmt.Errorf("invalidate memory %s: %w", target.ID, err)
		}
		a.writes++
		a.res.Invalidated = append(a.res.Invalidated, target.ID)
		return OutInvalidated, nil
	}
	text := memory.SingleLine(o.Text)
	norm := normText(text)
	if len([]rune(text)) > 400 || !strings.Contains(norm, " ") {
		return OutInvalid, nil
	}
	vec := a.vecs[text]
	if a.duplicate(norm, vec, verb == "add", target.ID) {
		return OutDuplicate, nil
	}
	if a.echoed(norm, vec, verb == "add") {
		return OutEcho, nil
	}
	entities, err := a.entities(ctx, o.People, sources)
	if err != nil {
		return "", fmt.Errorf("save people of %q: %w", memory.ClipRunes(text, 60), err)
	}
	now := a.e.d.Clock.Now()
	it := memory.Item{ID: clock.NewID("mem_"), UserID: a.b.UserID, Kind: kind, Text: text, EntityIDs: entities, Sources: sources,
		Confidence: clamp01(o.Confidence, 0.7), Importance: clamp01(o.Importance, 0.5),
		EventTime: parseEventTime(o.EventTime, a.b.Loc), ValidFrom: at, CreatedAt: now, UpdatedAt: now}
	if verb == "supersede" {
		if len(it.EntityIDs) == 0 {
			it.EntityIDs = target.EntityIDs
		}
		if err := a.e.d.Memory.Supersede(ctx, a.b.UserID, target.ID, it, vec, at); err != nil {
			return "", fmt.Errorf("supersede memory %s: %w", target.ID, err)
		}
		a.res.Superseded = append(a.res.Superseded, target.ID)
		outcome = OutSuperseded
	} else {
		if err := a.e.d.Memory.AddItem(ctx, it, vec); err != nil {
			return "", fmt.Errorf("add memory %q: %w", memory.ClipRunes(text, 60), err)
		}
		outcome = OutAdded
	}
	a.writes++
	a.res.Added = append(a.res.Added, it.ID)
	a.known = append(a.known, knownText{id: it.ID, text: text, norm: norm, vec: vec})
	return outcome, nil
}

// sources applies guard 4 and returns the sources (deduplicated, in the
// batch's order) and the time of the newest, or an outcome that refuses.
func (a *applier) sources(ids []string, kind memory.Kind) ([]string, time.Time, string) {
	want := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if _, ok := a.byID[id]; !ok {
			return nil, time.Time{}, OutNoSource
		}
		want[id] = true
	}
	if len(want) == 0 {
		return nil, time.Time{}, OutNoSource
	}
	var out []string
	var at time.Time
	fromUser := false
	for _, m := range a.b.Messages {
		if want[m.ID] {
			out = append(out, m.ID)
			if m.CreatedAt.After(at) {
				at = m.CreatedAt
			}
			fromUser = fromUser || m.Role == store.RoleUser
		}
	}
	if !fromUser && kind != memory.KindReflection {
		return nil, time.Time{}, OutAssistantOnly
	}
	return out, at, ""
}

// duplicate applies guard 2. A supersede is compared by folded text only
// (its target excluded): a changed detail keeps embeddings close.
func (a *applier) duplicate(norm string, vec []float32, isAdd bool, target string) bool {
	for _, k := range a.known {
		if k.id == target {
			if k.norm == norm {
				return true
			}
			continue
		}
		if k.norm == norm || (isAdd && containsWords(k.norm, norm)) {
			return true
		}
		if isAdd && cosineSim(vec, k.vec) >= a.e.opts.NearIdentical {
			return true
		}
	}
	return false
}

// echoed applies guard 1.
func (a *applier) echoed(norm string, vec []float32, useVec bool) bool {
	if containsWords(a.instructions, norm) {
		return true
	}
	for _, p := range a.echo {
		if containsWords(p.norm, norm) || (useVec && cosineSim(vec, p.vec) >= a.e.opts.NearIdentical) {
			return true
		}
	}
	return false
}

// entities resolves the people of an operation: an existing entity by name
// or alias, else a new one. Junk names and the user and companion
// themselves are skipped.
func (a *applier) entities(ctx context.Context, names, sources []string) ([]string, error) {
	var ids []string
	self := map[string]bool{normText(a.b.UserName): true, normText(a.b.CompanionName): true}
	if f := strings.Fields(a.b.UserName); len(f) > 1 {
		self[normText(f[0])] = true
	}
	for _, raw := range names {
		name, proper := personName(raw)
		key := normText(name)
		if name == "" || self[key] {
			continue
		}
		id, ok := a.people[key]
		if !ok {
			ent, err := a.e.d.Memory.FindEntity(ctx, a.b.UserID, name)
			switch {
			case err == nil:
				id = ent.ID
			case errors.Is(err, memory.ErrNotFound) && proper:
				now := a.e.d.Clock.Now()
				ent = memory.Entity{ID: clock.NewID("ent_"), UserID: a.b.UserID, Name: name, Sources: sources, CreatedAt: now, UpdatedAt: now}
				if err := a.e.d.Memory.SaveEntity(ctx, ent); err != nil {
					return nil, err
				}
				id = ent.ID
				a.res.Entities = append(a.res.Entities, id)
			case errors.Is(err, memory.ErrNotFound):
				continue // a description of someone not known yet
			default:
				return nil, err
			}
			a.people[key] = id
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// junkNames are words a model puts in people that name nobody in particular.
var junkNames = map[string]bool{
	"i": true, "me": true, "my": true, "myself": true, "you": true, "your": true, "yourself": true,
	"he": true, "him": true, "his": true, "she": true, "her": true, "hers": true, "it": true,
	"we": true, "us": true, "our": true, "they": true, "them": true, "their": true,
	"someone": true, "somebody": true, "anyone": true, "anybody": true, "everyone": true, "everybody": true,
	"nobody": true, "no one": true, "people": true, "person": true, "friend": true, "friends": true,
	"a friend": true, "my friend": true, "some friend": true, "user": true, "the user": true,
	"assistant": true, "the assistant": true, "companion": true, "unknown": true, "none": true, "n a": true,
}

// nameLeads are words that start a description rather than a name.
var nameLeads = map[string]bool{"my": true, "our": true, "your": true, "a": true, "an": true, "the": true,
	"his": true, "her": true, "their": true, "some": true, "this": true, "that": true}

// personName reads a name from the model's people list. A proper name
// (it starts with a capital letter, or a letter of a script without case)
// may create a person: "Catherine", and "Bob" out of "my friend Bob".
// Anything else ("catherine", "my sister") may only find a person already
// known by that name or alias. Pronouns and generic words ("someone", "my
// friend") name nobody and give "".
func personName(raw string) (name string, proper bool) {
	raw = memory.SingleLine(strings.Trim(raw, " \t\"'.,;:!?()"))
	raw = strings.TrimSuffix(strings.TrimSuffix(raw, "'s"), "’s")
	words := strings.Fields(raw)
	for len(words) > 0 {
		w := strings.ToLower(words[0])
		first, _ := utf8.DecodeRuneInString(words[0])
		if !nameLeads[w] && !junkNames[w] && !unicode.IsLower(first) {
			break
		}
		words = words[1:]
	}
	if n := strings.Join(words, " "); n != "" && !junkNames[normText(n)] && len([]rune(n)) <= 60 {
		if first, _ := utf8.DecodeRuneInString(n); unicode.IsLetter(first) {
			return n, true
		}
	}
	if n := normText(raw); n == "" || junkNames[n] || len([]rune(raw)) > 60 {
		return "", false
	}
	return raw, false
}

// normText folds text for comparison: lower case, letters and digits only,
// single spaces. "Theo's sister, Catherine!" becomes "theo s sister catherine".
func normText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// containsWords reports whether the folded text needle occurs in haystack on
// word boundaries (both already folded by normText).
func containsWords(haystack, needle string) bool {
	if needle == "" {
		return false
	}
	return strings.Contains(" "+haystack+" ", " "+needle+" ")
}

// cosineSim is the cosine similarity of two vectors (0 when either is empty or
// their lengths differ).
func cosineSim(a, b []float32) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb))
}
