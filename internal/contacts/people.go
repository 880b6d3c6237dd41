package contacts

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/os1ai/os1/internal/memory"
)

// Person is one person as the People view and the companion see them:
// memory's person (entity) and the contacts linked to it merged, so one
// person has all of their handles. A contact no entity matches is a
// person of its own; so is an entity without a contact.
type Person struct {
	Name       string    `json:"name"`
	OtherNames []string  `json:"other_names,omitempty"`
	Relation   string    `json:"relation,omitempty"`
	Handles    []Handle  `json:"handles"`
	Birthday   string    `json:"birthday,omitempty"`
	EntityID   string    `json:"entity_id,omitempty"`   // the memory person, "" when memory knows no one by these names
	ContactIDs []string  `json:"contact_ids,omitempty"` // the contacts merged into this person
	Contacts   []Contact `json:"-"`
}

// People lists the user's people: contacts merged with memory's people by
// link or by name, by name.
func (s *Service) People(ctx context.Context, userID string) ([]Person, error) {
	cs, err := s.Store.ListContacts(ctx, userID, false)
	if err != nil {
		return nil, err
	}
	var ents []memory.Entity
	if s.Entities != nil {
		if ents, err = s.Entities.Entities(ctx, userID); err != nil {
			return nil, err
		}
	}
	return Merge(cs, ents), nil
}

// Merge links contacts to entities (by EntityID, else by a name or other
// name they share, case-insensitively) and merges each entity's contacts
// into one person.
func Merge(cs []Contact, ents []memory.Entity) []Person {
	byID := map[string]int{}
	byName := map[string]int{}
	people := make([]Person, 0, len(ents)+len(cs))
	for _, e := range ents {
		i := len(people)
		byID[e.ID] = i
		people = append(people, Person{Name: e.Name, OtherNames: slices.Clone(e.Aliases), Relation: strings.ToLower(e.Relation), EntityID: e.ID, Handles: []Handle{}})
		for _, n := range append([]string{e.Name}, e.Aliases...) {
			if k := key(n); k != "" {
				if _, taken := byName[k]; !taken {
					byName[k] = i
				}
			}
		}
	}
	for _, c := range cs {
		i, ok := byID[c.EntityID]
		if !ok || c.EntityID == "" {
			ok = false
			for _, n := range c.Names() {
				if j, found := byName[key(n)]; found && people[j].EntityID != "" {
					i, ok = j, true
					break
				}
			}
		}
		if !ok {
			people = append(people, Person{Name: c.Name, Handles: []Handle{}})
			i = len(people) - 1
		}
		p := &people[i]
		if len(p.Contacts) == 0 && c.Name != "" {
			// The address book's full name is the better display name.
			if p.Name != "" && !strings.EqualFold(p.Name, c.Name) {
				p.OtherNames = append(p.OtherNames, p.Name)
			}
			p.Name = c.Name
		}
		p.Contacts = append(p.Contacts, c)
		p.ContactIDs = append(p.ContactIDs, c.ID)
		for _, n := range c.OtherNames {
			if !hasFold(p.OtherNames, n) && !strings.EqualFold(n, p.Name) {
				p.OtherNames = append(p.OtherNames, n)
			}
		}
		if c.Relation != "" {
			p.Relation = c.Relation
		}
		if p.Birthday == "" {
			p.Birthday = c.Birthday
		}
		for _, h := range c.Handles {
			if !slices.ContainsFunc(p.Handles, func(o Handle) bool { return o.Kind == h.Kind && strings.EqualFold(o.Value, h.Value) }) {
				p.Handles = append(p.Handles, h)
			}
		}
	}
	for i := range people {
		p := &people[i]
		p.OtherNames = slices.DeleteFunc(p.OtherNames, func(n string) bool { return strings.EqualFold(n, p.Name) })
	}
	slices.SortStableFunc(people, func(a, b Person) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return people
}

func hasFold(ss []string, s string) bool {
	return slices.ContainsFunc(ss, func(x string) bool { return strings.EqualFold(x, s) })
}

// key is a name as names are compared: lower-case, spaces folded, a
// leading "my" and a trailing "'s" dropped.
func key(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "'s"), "’s")
	for _, p := range []string{"my ", "our ", "the "} {
		s = strings.TrimPrefix(s, p)
	}
	return strings.Trim(s, " ?!.,")
}

// kin are relation words that name the same relative.
var kin = [][]string{
	{"father", "dad", "daddy", "papa"},
	{"mother", "mom", "mum", "mommy", "mama"},
	{"grandmother", "grandma", "granny", "nana"},
	{"grandfather", "grandpa", "granddad", "grandad"},
	{"wife", "partner", "spouse"},
	{"husband", "partner", "spouse"},
	{"colleague", "coworker"},
	{"neighbour", "neighbor"},
}

func sameRelation(a, b string) bool {
	a, b = key(a), key(b)
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	for _, g := range kin {
		if slices.Contains(g, a) && slices.Contains(g, b) {
			return true
		}
	}
	return false
}

// Lookup finds the people who: a name, an other name or a relation ("my
// sister", "Ana", "Cathy"). Whole-name matches come first; without one, a
// first name matches ("Ana" finds "Ana Lima"); without that, the relation.
func (s *Service) Lookup(ctx context.Context, userID, who string) ([]Person, error) {
	people, err := s.People(ctx, userID)
	if err != nil {
		return nil, err
	}
	return Find(people, who), nil
}

// Find is Lookup over a list of people.
func Find(people []Person, who string) []Person {
	k := key(who)
	if k == "" {
		return nil
	}
	var exact, first, rel []Person
	for _, p := range people {
		names := append([]string{p.Name}, p.OtherNames...)
		switch {
		case slices.ContainsFunc(names, func(n string) bool { return key(n) == k }):
			exact = append(exact, p)
		case slices.ContainsFunc(names, func(n string) bool {
			f := strings.Fields(key(n))
			return len(f) > 1 && f[0] == k
		}):
			first = append(first, p)
		case sameRelation(p.Relation, k):
			rel = append(rel, p)
		}
	}
	switch {
	case len(exact) > 0:
		return exact
	case len(first) > 0:
		return first
	}
	return rel
}
