package main

import (
	"math/rand/v2"
	"slices"
	"time"
)

// activity is something Theo does again and again (cooks, watches a movie,
// finishes a book), each time with a different dish, film or book.
// Temporal questions ask which ones happened in a window, so the words of
// the question match the whole history and only the date picks the answer.
type activity struct {
	name  string
	items []string // what the message names
	// movedItems replace items after the move (restaurants are local)
	movedItems []string
	// chance it happens on a given day (when allowed)
	chance func(s state) float64
	texts  []string // templates; {$item} is the item
	// questions by window kind: "month" ("in May", "last month") or "week"
	// ("last week", "2 weeks ago"); %s is the window phrase. Empty: not asked.
	monthQs, weekQs []string
	maxAnswers      int // windows with more answers are not asked
}

var activities = []activity{
	{
		name: "cook",
		items: []string{
			"chana masala", "shakshuka", "mushroom risotto", "lentil soup", "vegetable lasagna", "black bean chili",
			"pesto pasta", "veggie stir-fry", "butternut squash soup", "eggplant parmesan", "chicken tikka masala",
			"beef stew", "fish tacos", "teriyaki salmon", "spaghetti carbonara", "minestrone", "pierogi", "paella",
			"potato gnocchi", "spanakopita", "jambalaya", "pad see ew", "bibimbap", "french onion soup",
			"chicken pot pie", "stuffed peppers", "cashew mac and cheese", "gumbo", "curry laksa", "red lentil dal",
			"moussaka", "enchiladas", "frittata", "banana bread", "rosemary focaccia", "potato leek soup",
			"cauliflower curry", "lamb kofta", "shrimp scampi", "tomato galette",
		},
		chance: func(state) float64 { return 0.3 },
		texts: []string{
			"Cooked {$item} {tonight|for dinner}{, pretty proud of it|, and there are leftovers for days|}.",
			"Made {$item} from scratch tonight. {Maya had seconds.|Kitchen is a disaster.|Worth it.}",
			"Tried a new recipe: {$item}. {Nailed it, I think.|Edible, barely.|Will make again.}",
			"Dinner tonight was homemade {$item}{ and the whole place smells amazing|}.",
			"I spent the evening making {$item}{ while listening to a podcast|, very relaxing|}.",
			"Finally attempted {$item} for dinner. {It took two hours.|Better than expected.|Maya says it's a keeper.}",
		},
		weekQs: []string{
			"What did I cook %s?", "What did I make for dinner %s?", "Which dishes did I cook %s?",
			"What recipes did I try %s?",
		},
		maxAnswers: 5,
	},
	{
		name: "movie",
		items: []string{
			"Past Lives", "Arrival", "The Grand Budapest Hotel", "Paddington 2", "Knives Out",
			"Everything Everywhere All at Once", "Spotlight", "Before Sunrise", "The Princess Bride", "Moonlight",
			"Amélie", "Jaws", "Alien", "Parasite", "Lady Bird", "Zodiac", "Whiplash", "The Iron Giant",
			"Ratatouille", "Mad Max: Fury Road", "Little Women", "Casablanca", "The Social Network", "Aftersun",
			"Dune", "Oppenheimer", "Inside Out", "Coco", "Nomadland", "Howl's Moving Castle",
		},
		chance: func(state) float64 { return 0.12 },
		texts: []string{
			"Watched {$item} {with Maya|last night|tonight}{, still thinking about it|, loved it|, not my thing|}.",
			"Finally saw the movie {$item}. {Everyone was right.|Overrated, sorry.|I cried.}",
			"Movie night: {$item}. {Maya fell asleep halfway.|Ten out of ten.|Good popcorn, fine movie.}",
		},
		monthQs:    []string{"What movies did I watch %s?", "Which films did I see %s?"},
		weekQs:     []string{"What movie did I watch %s?"},
		maxAnswers: 5,
	},
	{
		name: "book",
		items: []string{
			"Tomorrow, and Tomorrow, and Tomorrow", "The Overstory", "Piranesi", "Station Eleven",
			"A Gentleman in Moscow", "The Remains of the Day", "Klara and the Sun", "Educated", "The Road",
			"Circe", "Project Hail Mary", "Lonesome Dove", "The Secret History", "Pachinko", "Braiding Sweetgrass",
			"Never Let Me Go", "The Name of the Wind", "Anxious People", "Demon Copperhead", "The Goldfinch",
			"Normal People", "Middlemarch", "Beloved", "Cloud Cuckoo Land",
		},
		chance: func(state) float64 { return 1.0 / 11 },
		texts: []string{
			"Finished reading {$item} {last night|on the train|this morning}{, what an ending|, I need a minute|}.",
			"Just turned the last page of {$item}. {Wow.|Worth every page.|The middle dragged, but the end!}",
			"Done with {$item}! {On to the next book.|Maya wants to borrow my copy.|Highly recommend the book.}",
		},
		monthQs:    []string{"Which books did I finish %s?", "What did I read %s?"},
		maxAnswers: 4,
	},
	{
		name: "restaurant",
		items: []string{
			"Giulia", "Oleana", "Myers + Chang", "Neptune Oyster", "Sarma", "Tasting Counter", "Mei Mei",
		},
		movedItems: []string{
			"Hop Alley", "Tavernetta", "Domo", "Safta", "Uchi", "Work & Class", "Sushi Den", "Mercantile",
			"Annette", "Bar Dough", "El Five",
		},
		chance: func(state) float64 { return 0.11 },
		texts: []string{
			"We had dinner at {$item} tonight{, the dessert alone was worth it|, a bit loud but great|}.",
			"Tried the restaurant {$item} for the first time{ with Maya|}. {Going back for sure.|Overpriced, honestly.|So good.}",
			"Maya and I ate out at {$item}{ to celebrate nothing in particular|}.",
		},
		monthQs:    []string{"Where did I eat out %s?", "Which restaurants did I go to %s?"},
		weekQs:     []string{"Where did we go out to eat %s?"},
		maxAnswers: 5,
	},
	{
		name: "concert",
		items: []string{
			"Phoebe Bridgers", "Khruangbin", "The National", "Big Thief", "Bon Iver", "Alvvays",
			"Vampire Weekend", "Fleet Foxes", "Wilco", "Mitski", "Hozier", "Lizzo",
		},
		chance: func(state) float64 { return 1.0 / 26 },
		texts: []string{
			"Saw {$item} live tonight{ and my ears are still ringing|, unforgettable|}.",
			"The {$item} concert was {incredible|so much fun|worth the ticket price}.",
		},
		monthQs:    []string{"Which concerts did I go to %s?", "Who did I see live %s?"},
		maxAnswers: 4,
	},
	{
		name: "game",
		items: []string{
			"Catan", "Ticket to Ride", "Azul", "Codenames", "Pandemic", "Terraforming Mars", "Cascadia",
			"Splendor", "Carcassonne", "Dixit", "The Crew", "Everdell", "Root", "Dominion", "Patchwork",
		},
		chance: func(state) float64 { return 0.07 },
		texts: []string{
			"Game night: we played {$item} {until midnight|three times in a row|and I lost badly}.",
			"{Jonah|Maya|Our neighbours} taught us the board game {$item} tonight{, instant favourite|, I don't get it yet|}.",
			"Played {$item} with friends{ and Maya won again| and it got competitive|}.",
		},
		monthQs:    []string{"Which board games did I play %s?", "What games did we play %s?"},
		weekQs:     []string{"What board game did we play %s?"},
		maxAnswers: 4,
	},
	{
		name: "purchase",
		items: []string{
			"a standing desk", "new running shoes", "a cast iron pan", "a record player", "a rain jacket",
			"a hammock", "noise-cancelling headphones", "a bread machine", "a houseplant the size of a child",
			"a secondhand armchair", "a new mattress", "a label maker", "a camping stove", "a hand blender",
		},
		chance: func(state) float64 { return 0.05 },
		texts: []string{
			"Finally bought {$item}{. No regrets|, my wallet is crying|}.",
			"Treated myself to {$item} today{, it was on sale|, don't judge me|}.",
			"Ordered {$item} online{ after weeks of research|, arrives Thursday|}.",
		},
		monthQs:    []string{"What did I buy %s?", "What did I treat myself to %s?"},
		maxAnswers: 4,
	},
	{
		name: "hike",
		items: []string{
			"Mount Falcon", "Chautauqua", "Royal Arch", "Lair o' the Bear", "Mount Sanitas", "Staunton State Park",
			"Hanging Lake", "St. Mary's Glacier", "Bear Peak", "Chief Mountain", "Mount Galbraith", "Lost Lake",
			"Herman Gulch", "Maxwell Falls",
		},
		chance: func(s state) float64 {
			if !s.moved || (s.day.Weekday() != time.Saturday && s.day.Weekday() != time.Sunday) {
				return 0
			}
			return 0.4
		},
		texts: []string{
			"Hiked {$item} this morning{, my lungs are still adjusting|, the views were ridiculous|}.",
			"Did the {$item} trail with Maya{, we got sunburnt|, saw a marmot|}.",
		},
		monthQs:    []string{"Where did I hike %s?", "Which trails did I do %s?"},
		weekQs:     []string{"Where did I go hiking %s?"},
		maxAnswers: 4,
	},
}

// occurrence is one time an activity happened.
type occurrence struct {
	activity *activity
	day      int
	item     string
	text     string
}

// schedule decides which activities happen on which days; items cycle
// through a shuffled list so each appears rarely.
func schedule(rng *rand.Rand, book *phrasebook, days int, stateOf func(int) state) []occurrence {
	var out []occurrence
	for i := range activities {
		a := &activities[i]
		pools := [2]*cycle{{items: slices.Clone(a.items)}, {items: slices.Clone(a.movedItems)}}
		for d := range days {
			st := stateOf(d)
			if rng.Float64() >= a.chance(st) {
				continue
			}
			pool := pools[0]
			if st.moved && len(pools[1].items) > 0 {
				pool = pools[1]
			}
			item := pool.next(rng)
			book.lists["item"] = []string{item}
			out = append(out, occurrence{activity: a, day: d, item: item, text: book.pick(a.texts)})
		}
	}
	return out
}

// cycle hands out items in shuffled rounds, so each comes back only after
// all the others.
type cycle struct {
	items []string
	pos   int
}

func (c *cycle) next(rng *rand.Rand) string {
	if c.pos == 0 {
		rng.Shuffle(len(c.items), func(i, j int) { c.items[i], c.items[j] = c.items[j], c.items[i] })
	}
	it := c.items[c.pos]
	c.pos = (c.pos + 1) % len(c.items)
	return it
}
