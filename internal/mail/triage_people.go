package mail

import (
	"regexp"
	"strings"

	"github.com/os1ai/os1/internal/memory"
)

// closenessByRelation is how close a relation usually is; memory's own
// words for a person ("sister", "my landlord") are looked up here.
var closenessByRelation = []struct {
	words     []string
	closeness float64
}{
	{[]string{"wife", "husband", "partner", "girlfriend", "boyfriend", "fiancé", "fiancée", "fiance", "spouse"}, 1},
	{[]string{"mother", "father", "mum", "mom", "dad", "sister", "brother", "daughter", "son", "child", "parent"}, 0.9},
	{[]string{"best friend"}, 0.85},
	{[]string{"grandmother", "grandfather", "grandma", "grandpa", "aunt", "uncle", "cousin", "niece", "nephew", "in-law"}, 0.7},
	{[]string{"friend"}, 0.6},
	{[]string{"boss", "manager", "colleague", "coworker", "co-worker", "client", "teacher", "mentor"}, 0.45},
	{[]string{"neighbour", "neighbor", "landlord", "landlady", "doctor", "dentist", "lawyer", "accountant", "therapist"}, 0.3},
}

var emailInText = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// PeopleFromMemory turns memory's people into triage's: their addresses
// (aliases that are addresses, and addresses in the current items about
// them), their relation, and a closeness from the relation, nudged up by
// how much the user has told about them. A person without an address is
// kept: rules that name them ("my landlord") still resolve by name.
func PeopleFromMemory(entities []memory.Entity, items []memory.Item) []Person {
	about := map[string][]memory.Item{}
	for _, it := range items {
		if !it.Current() {
			continue
		}
		for _, id := range it.EntityIDs {
			about[id] = append(about[id], it)
		}
	}
	var out []Person
	for _, e := range entities {
		p := Person{Name: e.Name, Relation: strings.TrimSpace(e.Relation)}
		seen := map[string]bool{}
		add := func(a string) {
			a = strings.ToLower(strings.TrimRight(a, "."))
			if !seen[a] {
				seen[a] = true
				p.Emails = append(p.Emails, a)
			}
		}
		for _, al := range e.Aliases {
			if emailInText.MatchString(al) {
				add(emailInText.FindString(al))
			} else if p.Relation == "" && strings.HasPrefix(strings.ToLower(al), "my ") {
				p.Relation = strings.TrimPrefix(strings.ToLower(al), "my ")
			}
		}
		for _, it := range about[e.ID] {
			for _, a := range emailInText.FindAllString(it.Text, -1) {
				add(a)
			}
		}
		p.Closeness = relationCloseness(p.Relation + " " + e.Notes)
		bonus := 0.0
		for _, it := range about[e.ID] {
			bonus += 0.01 + 0.02*it.Importance
		}
		p.Closeness = round2(min(p.Closeness+min(bonus, 0.15), 1))
		out = append(out, p)
	}
	return out
}

// relationCloseness reads the closest relation named in words, or 0.25
// for someone the user mentioned without one.
func relationCloseness(words string) float64 {
	words = " " + strings.ToLower(words) + " "
	for _, r := range closenessByRelation {
		for _, w := range r.words {
			if strings.Contains(words, " "+w+" ") || strings.Contains(words, " "+w+"'") || strings.Contains(words, " "+w+",") || strings.Contains(words, " "+w+".") {
				return r.closeness
			}
		}
	}
	return 0.25
}
