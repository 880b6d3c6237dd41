package recall

import (
	"strings"
	"unicode"
)

// Word forms the full-text index cannot join by itself. Its Porter stemmer
// strips regular endings (lives, living, lived → live) but leaves irregular
// forms apart: "where did I grow up" shares no word with "I grew up in
// Duluth", nor "what did I buy" with "I bought a bike". So before the full-text
// search, recall adds the other forms of each irregular English verb (and a
// few irregular plurals) in the query; the vector side sees the query as
// typed. The table is general English, the common irregular verbs of any
// grammar's list, with nothing taken from the user's data.
//
// Forms that are also everyday words of another meaning ("left" the side,
// "saw" the tool, "found" a company, "rose" the flower) are added when the
// query has the base form but do not pull the base in: "on my left" must
// not search for "leave". Left out on purpose: verbs whose forms are all
// the same (cut, put, read), the auxiliaries and the words the index ignores
// as query filler (be, do, have, know, tell: "did" must not add "done"), and
// verbs that are more often another word (fall, spring, wind, light).

// irregularForms lists, one group per line, the base form first, then the
// other forms. A form marked with a leading '~' is ambiguous: it is added
// for its base, but does not expand by itself.
const irregularForms = `
arise arose arisen
awake awoke awoken
bear ~bore born borne
beat beaten
become became
begin began begun
bend bent
bite bit bitten
bleed bled
blow blew blown
break broke broken
breed bred
bring brought
build built
burn burnt
buy bought
catch caught
choose chose chosen
come came
creep crept
deal dealt
dig dug
draw drew drawn
dream dreamt
drink drank drunk
drive drove driven
eat ate eaten
feed fed
feel ~felt
fight fought
find ~found
flee fled
fly flew flown
forbid forbade forbidden
forget forgot forgotten
forgive forgave forgiven
freeze froze frozen
get got gotten
give gave given
go went gone
grind ~ground
grow grew grown
hang hung
hear heard
hide hid hidden
hold held
keep kept
kneel knelt
lay laid
lead led
lean leant
leap leapt
learn learnt
leave ~left
lend lent
lie ~lay lain
lose lost
make made
mean meant
meet met
pay paid
prove proven
ride rode ridden
ring rang rung
rise ~rose risen
run ran
say said
see ~saw seen
seek sought
sell sold
send sent
sew sewn
shake shook shaken
shine shone
shoot shot
show shown
shrink shrank shrunk
sing sang sung
sink sank sunk
sit sat
sleep slept
slide slid
speak spoke spoken
speed sped
spend spent
spill spilt
spin spun
stand stood
steal stole stolen
stick stuck
sting stung
stink stank stunk
strike struck stricken
string strung
strive strove striven
swear swore sworn
sweep swept
swim swam swum
swing swung
take took taken
teach taught
tear tore torn
think thought
throw threw thrown
understand understood
wake woke woken
wear wore worn
weave wove woven
weep wept
win won
write wrote written
child children
foot feet
goose geese
man men
mouse mice
person people
tooth teeth
woman women
knife knives
life lives
wife wives
leaf leaves
`

// wordForms maps a word to the other forms it adds to a full-text query;
// built once, read-only.
var wordForms = func() map[string][]string {
	m := map[string][]string{}
	for line := range strings.Lines(irregularForms) {
		group := strings.Fields(line)
		if len(group) < 2 {
			continue
		}
		forms := make([]string, len(group))
		for i, f := range group {
			forms[i] = strings.TrimPrefix(f, "~")
		}
		for i, f := range group {
			if strings.HasPrefix(f, "~") {
				continue
			}
			for j, other := range forms {
				if j != i && other != forms[i] {
					m[forms[i]] = append(m[forms[i]], other)
				}
			}
		}
	}
	return m
}()

// ExpandWordForms returns text with the other forms of its irregular words
// appended ("where did I grow up" → "where did I grow up grew grown"), each
// once and only when text lacks it. Text without such words comes back as is.
func ExpandWordForms(text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	have := map[string]bool{}
	for _, w := range words {
		have[w] = true
	}
	var extra []string
	for _, w := range words {
		for _, f := range wordForms[w] {
			if !have[f] {
				have[f] = true
				extra = append(extra, f)
			}
		}
	}
	if len(extra) == 0 {
		return text
	}
	return text + " " + strings.Join(extra, " ")
}
