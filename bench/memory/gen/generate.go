package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/os1ai/os1/bench/memory/dataset"
)

const (
	userName      = "Theo"
	companionName = "Samantha"
)

// special is a message placed on purpose: a plant or an activity.
type special struct {
	key  string // plant key, or "" for an activity
	occ  *occurrence
	text string
}

// placed is where a message ended up.
type placed struct {
	id   string
	at   time.Time // its session's time
	text string
}

// generate builds the transcript and the questions. The same seed, months
// and start always give the same bytes.
func generate(seed uint64, months int, start time.Time) (dataset.Transcript, []dataset.Question, dataset.Meta, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed_0f_05_1a))
	book := &phrasebook{rng: rng, lists: map[string][]string{}}
	for k, v := range fillerLists {
		book.lists[k] = v
	}

	// Questions are asked on the Monday morning after the last session, so
	// "last week" is the Monday-to-Sunday week that just ended, which is
	// also the last seven days.
	end := start.AddDate(0, months, 0)
	now := time.Date(end.Year(), end.Month(), end.Day(), 9, 0, 0, 0, time.UTC)
	for now.Weekday() != time.Monday {
		now = now.AddDate(0, 0, 1)
	}
	days := int(now.Sub(start).Hours() / 24) // sessions run until the Sunday before now
	w := newWorld(rng)
	plants := w.plants()
	plantByKey := map[string]plant{}
	for _, p := range plants {
		plantByKey[p.key] = p
	}

	// Days of the story: the move and the new job change what small talk
	// may say.
	dayOf := map[string]int{}
	var dayFor func(p plant) int
	dayFor = func(p plant) int {
		if d, ok := dayOf[p.key]; ok {
			return d
		}
		d := int(p.at * float64(days))
		if p.after != "" {
			d = dayFor(plantByKey[p.after]) + p.days
		}
		d = max(0, min(d, days-1))
		dayOf[p.key] = d
		return d
	}
	for _, p := range plants {
		dayFor(p)
	}
	stateOf := func(d int) state {
		return state{
			day:    start.AddDate(0, 0, d),
			moved:  d >= dayOf["city-new"],
			newJob: d >= dayOf["job-new"],
		}
	}

	specials := make([][]special, days)
	for _, p := range plants {
		text := book.expand(p.text)
		specials[dayOf[p.key]] = append(specials[dayOf[p.key]], special{key: p.key, text: text})
	}
	occs := schedule(rng, book, days, stateOf)
	for i := range occs {
		o := &occs[i]
		specials[o.day] = append(specials[o.day], special{occ: o, text: o.text})
	}

	var (
		tr       dataset.Transcript
		byKey    = map[string]placed{}
		byOcc    = map[*occurrence]placed{}
		all      []placed
		nextID   = 1
		newID    = func() string { id := fmt.Sprintf("m%05d", nextID); nextID++; return id }
		sessions = []int{0, 1, 1, 1, 1, 2, 2, 2, 3, 3} // per day, before plants force one
	)
	for d := range days {
		st := stateOf(d)
		n := sessions[rng.IntN(len(sessions))]
		if n == 0 && len(specials[d]) > 0 {
			n = 1
		}
		if n == 0 {
			continue
		}
		// Distinct start hours between 9:00 and 20:00 UTC, in order.
		hours := rng.Perm(12)[:n]
		slices.Sort(hours)
		sp := slices.Clone(specials[d])
		rng.Shuffle(len(sp), func(i, j int) { sp[i], sp[j] = sp[j], sp[i] })
		perSession := make([][]special, n)
		for i, s := range sp {
			k := rng.IntN(n)
			if i < n {
				k = i // spread before stacking
			}
			perSession[k] = append(perSession[k], s)
		}
		for si := range n {
			at := st.day.Add(time.Duration(9+hours[si])*time.Hour + time.Duration(rng.IntN(50))*time.Minute)
			msgs := session(rng, book, st, perSession[si])
			s := dataset.Session{Time: at}
			for _, m := range msgs {
				id := newID()
				s.Messages = append(s.Messages, dataset.Message{ID: id, Speaker: m.speaker, Text: m.text})
				pl := placed{id: id, at: at, text: m.text}
				all = append(all, pl)
				if m.special != nil {
					if m.special.key != "" {
						byKey[m.special.key] = pl
					} else {
						byOcc[m.special.occ] = pl
					}
				}
			}
			tr.Sessions = append(tr.Sessions, s)
		}
	}

	qs, err := questions(w, start, now, byKey, occs, byOcc)
	if err != nil {
		return tr, nil, dataset.Meta{}, err
	}
	if err := check(qs, all, start, now); err != nil {
		return tr, nil, dataset.Meta{}, err
	}
	meta := dataset.Meta{
		Seed: seed, Months: months, Start: start, Now: now,
		User: userName, Companion: companionName,
		Sessions: len(tr.Sessions), Messages: len(all), Questions: map[string]int{},
	}
	for _, q := range qs {
		meta.Questions[q.Type]++
	}
	return tr, qs, meta, nil
}

type line struct {
	speaker string
	text    string
	special *special
}

// session is one conversation of 10 to 30 messages, Theo and Samantha in
// turn, with the day's special messages at random turns of Theo's.
func session(rng *rand.Rand, book *phrasebook, st state, specials []special) []line {
	n := 10 + rng.IntN(21)
	var out []line
	if rng.IntN(3) == 0 {
		out = append(out, line{speaker: companionName, text: book.pick(replies["open"])})
	}
	turns := max((n-len(out))/2, len(specials))
	at := rng.Perm(turns)[:len(specials)]
	special := map[int]*special{}
	for i, t := range at {
		special[t] = &specials[i]
	}
	open := topicsFor(st)
	rng.Shuffle(len(open), func(i, j int) { open[i], open[j] = open[j], open[i] })
	topics := open[:3]
	said := map[string]bool{}
	fresh := func(tmpls []string) string { // nobody repeats a line within a session
		var s string
		for range 8 {
			if s = book.pick(tmpls); !said[s] {
				break
			}
		}
		said[s] = true
		return s
	}
	for t := range turns {
		if s, ok := special[t]; ok {
			out = append(out, line{speaker: userName, text: s.text, special: s})
			out = append(out, line{speaker: companionName, text: fresh(replies["plant"])})
			continue
		}
		topic := topics[rng.IntN(len(topics))]
		out = append(out, line{speaker: userName, text: fresh(fillerTopics[topic])})
		if r, ok := replies[topic]; ok && rng.IntN(5) < 3 {
			out = append(out, line{speaker: companionName, text: fresh(r)})
		} else {
			out = append(out, line{speaker: companionName, text: fresh(replies[""])})
		}
	}
	return out
}

// window is a span of time a temporal question names.
type window struct {
	phrase   string
	from, to time.Time
	kind     string // "month" or "week"
}

// windows are the months of the story and the last four weeks before now.
func windows(start, now time.Time) []window {
	var out []window
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(now); m = m.AddDate(0, 1, 0) {
		next := m.AddDate(0, 1, 0)
		if next.After(now) {
			break // the month now is in has only begun
		}
		phrase := "in " + m.Month().String()
		if !m.AddDate(1, 0, 0).After(now) { // "in May" means the latest May; older ones need the year
			phrase += fmt.Sprintf(" %d", m.Year())
		}
		out = append(out, window{phrase: phrase, from: m, to: next, kind: "month"})
	}
	monday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, -1)
	}
	for k := 1; k <= 4; k++ {
		phrase := "last week"
		if k > 1 {
			phrase = fmt.Sprintf("%d weeks ago", k)
		}
		out = append(out, window{phrase: phrase, from: monday.AddDate(0, 0, -7*k), to: monday.AddDate(0, 0, -7*(k-1)), kind: "week"})
	}
	return out
}

func (w window) has(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

// questions turns the question definitions and the activity history into
// dataset questions with the ids of their answers.
func questions(w world, start, now time.Time, byKey map[string]placed, occs []occurrence, byOcc map[*occurrence]placed) ([]dataset.Question, error) {
	var out []dataset.Question
	plantValue := map[string]string{}
	for _, p := range w.plants() {
		plantValue[p.key] = p.value
	}
	for _, d := range w.questions() {
		q := dataset.Question{Question: d.text, Type: d.typ}
		for _, k := range d.keys {
			pl, ok := byKey[k]
			if !ok {
				return nil, fmt.Errorf("question %q: plant %q was not placed", d.text, k)
			}
			q.Answers = append(q.Answers, pl.id)
			want := d.want
			if want == "" {
				want = plantValue[k]
			}
			q.Expect = append(q.Expect, want)
		}
		out = append(out, q)
	}

	// Trips: asked by the month they happened in.
	trip := byKey["trip-1"].at
	for _, tw := range windows(start, now) {
		if tw.kind != "month" {
			continue
		}
		var ids, expect []string
		for _, k := range []string{"trip-1", "trip-2"} {
			if tw.has(byKey[k].at) {
				ids, expect = append(ids, byKey[k].id), append(expect, w.tripCity)
			}
		}
		// Asked only when the month's other mentions of the city (plans for
		// the trip) do not blur which messages are the travel itself.
		if tw.has(trip) && !tw.has(byKey["trip-booked"].at) && !tw.has(byKey["language"].at) {
			out = append(out, dataset.Question{Question: "Where did I travel " + tw.phrase + "?", Type: dataset.TypeTemporal, Answers: ids, Expect: expect})
		}
		if tw.has(byKey["roadtrip"].at) {
			out = append(out, dataset.Question{Question: "Where did Maya and I go for a weekend away " + tw.phrase + "?", Type: dataset.TypeTemporal,
				Answers: []string{byKey["roadtrip"].id}, Expect: []string{"Santa Fe"}})
		}
	}

	// Activities: every window with a few of them, phrasings taken in turn.
	turn := map[string]int{}
	for _, tw := range windows(start, now) {
		for ai := range activities {
			a := &activities[ai]
			tmpls := a.monthQs
			if tw.kind == "week" {
				tmpls = a.weekQs
			}
			if len(tmpls) == 0 {
				continue
			}
			var ids, expect []string
			for i := range occs {
				o := &occs[i]
				if o.activity != a {
					continue
				}
				if pl := byOcc[o]; tw.has(pl.at) {
					ids, expect = append(ids, pl.id), append(expect, o.item)
				}
			}
			if len(ids) == 0 || len(ids) > a.maxAnswers {
				continue
			}
			k := a.name + tw.kind
			tmpl := tmpls[turn[k]%len(tmpls)]
			turn[k]++
			out = append(out, dataset.Question{Question: fmt.Sprintf(tmpl, tw.phrase), Type: dataset.TypeTemporal, Answers: ids, Expect: expect})
		}
	}
	return out, nil
}
