package recall

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/memory"
)

// Other names of a person, read from the user's own words. People call one
// person several things ("my sister", "Catherine", "Cathy"), and a
// question often uses another name than the message that answers it. With
// a model, extraction records each person's aliases (Entities); without
// one, recall reads them where people say them: in a message that
// introduces someone ("My sister Catherine, everyone calls her Cathy",
// "His name is Robert but his friends call him Bob", "My grandmother Ruth,
// Nana to all of us", "Jonah has been my best friend since…"). Before the
// full-text search, the query's names and relation words ("my sister") are
// looked up; in the messages that hold them, an introduction that ties the
// name to others adds those others to the full-text query. Relation words
// that name the same relative (father, dad) count as one. Nothing is
// learnt or written: the links are read at query time from at most
// nameLookupLimit messages.

// nameLookupLimit is how many messages holding the query's names are read
// for introductions.
const nameLookupLimit = 100

// relations are the words by which people name someone by their tie to
// them ("my sister", "her boss"), lower-case; "best friend" is two words.
var relations = []string{
	"best friend", "friend", "sister", "brother", "mother", "mom", "mum", "father", "dad",
	"grandmother", "grandma", "granny", "nana", "grandfather", "grandpa", "aunt", "uncle",
	"cousin", "niece", "nephew", "son", "daughter", "wife", "husband", "partner",
	"girlfriend", "boyfriend", "fiancée", "fiancé", "fiance", "boss", "manager", "coworker",
	"colleague", "neighbour", "neighbor", "roommate", "flatmate", "teacher", "coach",
	"therapist", "doctor", "mentor", "stepmother", "stepfather", "stepmom", "stepdad",
}

// kinNames are relation words people also use as a name ("Dad said…",
// "Nana's cake"), grouped by the relative they name: a query saying one
// searches for the others too.
var kinNames = [][]string{
	{"father", "dad", "daddy", "papa"},
	{"mother", "mom", "mum", "mommy", "mama"},
	{"grandmother", "grandma", "granny", "nana"},
	{"grandfather", "grandpa", "granddad", "grandad"},
}

var (
	relAlt = func() string {
		rs := slices.Clone(relations)
		for _, g := range kinNames {
			rs = append(rs, g...)
		}
		slices.SortFunc(rs, func(a, b string) int { return len(b) - len(a) }) // longest first
		rs = slices.Compact(rs)
		return strings.Join(rs, "|")
	}()
	properName = `(\p{Lu}[\p{Ll}'’-]+)`
	// introductions tie a relation word and a name, or name a person's
	// other name. Submatches: relation or name, in any order.
	introductions = []*regexp.Regexp{
		regexp.MustCompile(`(?:^|[^\p{L}])(?i:my|our) (?i:(` + relAlt + `)),? ` + properName),
		regexp.MustCompile(properName + `,? (?:is|was|has been|had been) (?i:my|our) (?i:(` + relAlt + `))\b`),
		regexp.MustCompile(`(?i:name is|named|goes by|known as|short for|is called|was called) ` + properName),
		regexp.MustCompile(`(?i:call(?:s|ed)? (?:him|her|them)) ` + properName),
		regexp.MustCompile(properName + ` to (?:all of us|everyone|us all|the family|the kids|the grandkids)\b`),
	}
	// kinAsName is a kin word used as a name: capitalised, not after a
	// possessive ("Dad is…", but not "my Dad" nor "her dad").
	kinAsName = regexp.MustCompile(`(?:^|[^\p{L}])(\p{Lu}\p{Ll}+)\b`)
)

// notNames are capitalised words that start sentences or questions, not
// people.
var notNames = map[string]bool{
	"i": true, "i'm": true, "i've": true, "i'd": true, "i'll": true, "the": true, "a": true, "an": true,
	"what": true, "who": true, "whom": true, "whose": true, "when": true, "where": true, "why": true,
	"how": true, "which": true, "did": true, "do": true, "does": true, "is": true, "are": true,
	"was": true, "were": true, "can": true, "could": true, "will": true, "would": true, "should": true,
	"have": true, "has": true, "had": true, "my": true, "our": true, "his": true, "her": true,
	"their": true, "and": true, "but": true, "so": true, "he": true, "she": true, "they": true,
	"we": true, "you": true, "it": true, "this": true, "that": true, "there": true, "then": true,
	"everyone": true, "tell": true, "remind": true, "any": true, "if": true, "in": true, "on": true,
}

// kinGroup returns the kin names w belongs to (nil when none).
func kinGroup(w string) []string {
	for _, g := range kinNames {
		if slices.Contains(g, w) {
			return g
		}
	}
	return nil
}

// queryNames returns the names in a question, lower-case: its capitalised
// words that are not question or sentence words, the relation words it
// says after a possessive ("my sister"), and kin names ("Dad", "my
// father") with the other words for the same relative.
func queryNames(text string) []string {
	var out []string
	add := func(w string) {
		if w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '’' && r != '-'
	})
	for i, w := range words {
		w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
		w = strings.Trim(w, "'’-")
		lw := strings.ToLower(w)
		if g := kinGroup(lw); g != nil {
			for _, k := range g {
				add(k)
			}
			continue
		}
		if i > 0 && (words[i-1] == "my" || words[i-1] == "My" || strings.EqualFold(words[i-1], "our")) {
			if i+1 < len(words) && lw == "best" && strings.HasPrefix(strings.ToLower(words[i+1]), "friend") {
				add("best friend")
				continue
			}
			if slices.Contains(relations, lw) {
				add(lw)
				continue
			}
		}
		if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) && utf8.RuneCountInString(w) > 1 && !notNames[lw] {
			add(lw)
		}
	}
	return out
}

// introducedNames returns the names and relation words a message ties
// together by introducing someone, lower-case; nil when it introduces no
// one (fewer than two names tied).
func introducedNames(text string) []string {
	var out []string
	add := func(w string) {
		w = strings.ToLower(strings.TrimRight(w, "'’-"))
		w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
		if w != "" && !notNames[w] && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, re := range introductions {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			for _, s := range m[1:] {
				add(s)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	// A kin name used as a name in the same message is the person
	// introduced ("Dad is learning to text. His name is Robert…").
	for _, m := range kinAsName.FindAllStringSubmatchIndex(text, -1) {
		w := text[m[2]:m[3]]
		if kinGroup(strings.ToLower(w)) == nil {
			continue
		}
		before := strings.ToLower(strings.TrimSpace(text[:m[2]]))
		if strings.HasSuffix(before, "my") || strings.HasSuffix(before, "our") ||
			strings.HasSuffix(before, "his") || strings.HasSuffix(before, "her") || strings.HasSuffix(before, "their") {
			continue
		}
		add(w)
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// introducedAliases returns the other names the user's messages give the
// people the question names (see the top of this file), lower-case, not
// repeating the question's own names.
func (r *Recaller) introducedAliases(ctx context.Context, userID, text string) []string {
	names := queryNames(text)
	if len(names) == 0 {
		return nil
	}
	m, _ := ctx.Value(nameMemoKey{}).(*nameMemo)
	if m == nil {
		return r.lookupAliases(ctx, userID, names)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := userID + "\x00" + strings.Join(names, "\x00")
	if extra, ok := m.found[key]; ok {
		return extra
	}
	extra := r.lookupAliases(ctx, userID, names)
	m.found[key] = extra
	return extra
}

// nameMemo keeps one query's name lookups: a Recall asks for the same
// names up to three times (the vector side, full text, and full text
// without a time range).
type nameMemo struct {
	mu    sync.Mutex
	found map[string][]string
}

type nameMemoKey struct{}

func withNameMemo(ctx context.Context) context.Context {
	if _, ok := ctx.Value(nameMemoKey{}).(*nameMemo); ok {
		return ctx
	}
	return context.WithValue(ctx, nameMemoKey{}, &nameMemo{found: map[string][]string{}})
}

func (r *Recaller) lookupAliases(ctx context.Context, userID string, names []string) []string {
	hits, err := r.s.SearchText(ctx, userID, memory.Query{Text: strings.Join(names, " "), Limit: nameLookupLimit,
		Kinds: []memory.DocKind{memory.DocMessage}})
	if err != nil {
		return nil
	}
	asked := map[string]bool{}
	var extra []string
	for _, n := range names {
		asked[n] = true
		for _, k := range kinGroup(n) {
			asked[k] = true
		}
	}
	for _, h := range hits {
		tied := introducedNames(h.Text)
		if !slices.ContainsFunc(tied, func(w string) bool { return asked[w] }) {
			continue
		}
		for _, w := range tied {
			for _, k := range append([]string{w}, kinGroup(w)...) {
				if !asked[k] && !slices.Contains(extra, k) {
					extra = append(extra, k)
				}
			}
		}
	}
	return extra
}
