package main

import (
	"math/rand/v2"
	"strings"
)

// phrasebook expands templates: "{a|b|}" picks one alternative (the empty
// one included), "{$name}" picks an entry of the named list and expands it
// too. Braces do not nest; a list entry may hold its own braces.
type phrasebook struct {
	rng   *rand.Rand
	lists map[string][]string
}

func (p *phrasebook) expand(tmpl string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			panic("unclosed { in template: " + tmpl)
		}
		b.WriteString(tmpl[:i])
		inner := tmpl[i+1 : i+j]
		tmpl = tmpl[i+j+1:]
		if name, ok := strings.CutPrefix(inner, "$"); ok {
			l, ok := p.lists[name]
			if !ok || len(l) == 0 {
				panic("unknown list {$" + name + "}")
			}
			b.WriteString(p.expand(l[p.rng.IntN(len(l))]))
			continue
		}
		alts := strings.Split(inner, "|")
		b.WriteString(alts[p.rng.IntN(len(alts))])
	}
	return tidy(b.String())
}

// pick expands one of several templates.
func (p *phrasebook) pick(tmpls []string) string {
	return p.expand(tmpls[p.rng.IntN(len(tmpls))])
}

// tidy removes the doubled and stray spaces an empty alternative leaves.
func tidy(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, p := range []string{" ,", " .", " !", " ?"} {
		s = strings.ReplaceAll(s, p, p[1:])
	}
	return s
}
