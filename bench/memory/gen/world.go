package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/os1ai/os1/bench/memory/dataset"
)

// world is Theo's life: the values the seed picks, so two seeds plant
// different names and numbers in the same story.
type world struct {
	catName, catColour     string
	sisterDog, sisterCat   string
	coworkerCat            string
	tripCity, tripLanguage string
	bloodType              string
	lockerCode, garageCode string
	oldPB, newPB           string // 10K times
	oldRent, newRent       string
	birthday               string // Theo's
	sisterBirthday         string
	mayaBirthday           string
	fishWeight             string
}

func newWorld(rng *rand.Rand) world {
	one := func(l ...string) string { return l[rng.IntN(len(l))] }
	trips := [][2]string{{"Lisbon", "Portuguese"}, {"Kyoto", "Japanese"}, {"Oaxaca", "Spanish"}, {"Bologna", "Italian"}}
	trip := trips[rng.IntN(len(trips))]
	months := []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	date := func(m int) string { return fmt.Sprintf("%s %d", months[m], 2+rng.IntN(26)) }
	code := func() string { return fmt.Sprintf("%d", 1000+rng.IntN(9000)) }
	newMin := 48 + rng.IntN(2)
	return world{
		catName:        one("Miso", "Tofu", "Mochi", "Noodle"),
		catColour:      one("tabby", "calico", "tuxedo"),
		sisterDog:      one("Juniper", "Clementine", "Rosie"),
		sisterCat:      one("Smudge", "Pistachio", "Gizmo"),
		coworkerCat:    one("Pepper", "Nutmeg", "Biscuit"),
		tripCity:       trip[0],
		tripLanguage:   trip[1],
		bloodType:      one("O negative", "AB positive", "B negative"),
		lockerCode:     code(),
		garageCode:     code(),
		oldPB:          fmt.Sprintf("%d:%02d", 51+rng.IntN(4), rng.IntN(60)),
		newPB:          fmt.Sprintf("%d:%02d", newMin, rng.IntN(60)),
		oldRent:        fmt.Sprintf("$2,%d50", 1+rng.IntN(4)),
		newRent:        fmt.Sprintf("$1,%d20", 6+rng.IntN(3)),
		birthday:       date(7 + rng.IntN(2)), // August or September: still ahead at the end
		sisterBirthday: date(5),               // June
		mayaBirthday:   date(9 + rng.IntN(2)), // October or November
		fishWeight:     fmt.Sprintf("%d-pound", 12+rng.IntN(15)),
	}
}

// plant is a message the generator places on purpose: a fact questions
// are asked about.
type plant struct {
	key   string
	at    float64 // when it is said, as a fraction of the timeline
	after string  // if set, `days` days after this plant instead
	days  int
	text  string // template (see phrasebook); the expansion must contain value
	value string // the words that answer questions about it
}

// qdef is a question about plants.
type qdef struct {
	typ  string
	text string
	keys []string
	want string // the answering words, where they are not the plants' values
}

// plants is every planted message. Aliases are introduced early
// (Catherine/Cathy/my sister, Robert/Bob/Dad, Ruth/Nana/Grandma,
// Marcus/Marc/my manager, Jonah/my best friend, Maya/my girlfriend) and
// facts about people then use one name while questions use another.
func (w world) plants() []plant {
	return []plant{
		// Who is who. Not answers themselves; they tie the names together.
		{key: "intro-sister", at: 0.005, text: "My sister Catherine, everyone except our mom calls her Cathy, kept me on the phone for two hours {tonight|last night}.", value: "Catherine"},
		{key: "intro-dad", at: 0.015, text: "Dad is finally learning to text. His name is Robert but all his friends call him Bob, and now his messages are signed \"Bob\" like I don't know who he is.", value: "Bob"},
		{key: "intro-nana", at: 0.025, text: "My grandmother Ruth, Nana to all of us, sent me a handwritten letter {this week|today}.", value: "Ruth"},
		{key: "intro-boss", at: 0.035, text: "My manager Marcus, he insists on Marc, wants to talk about the roadmap {tomorrow|on Monday}.", value: "Marcus"},
		{key: "intro-jonah", at: 0.045, text: "Jonah has been my best friend since seventh grade and he still {can't|refuses to} answer a phone call.", value: "Jonah"},

		// fact: stable things about Theo.
		{key: "allergy", at: 0.05, text: "Pharmacy drama today: they almost handed me amoxicillin, and I'm allergic to penicillin.", value: "penicillin"},
		{key: "cat", at: 0.03, text: fmt.Sprintf("%s, my %s cat, has decided the radiator is her throne.", w.catName, w.catColour), value: w.catName},
		{key: "birthday", at: 0.57, text: fmt.Sprintf("Only a few months until my birthday on %s, and Maya is already being suspicious.", w.birthday), value: w.birthday},
		{key: "book", at: 0.2, text: "I reread East of Eden every winter. It's my favourite book, no contest.", value: "East of Eden"},
		{key: "band", at: 0.33, text: "Radiohead is still my favourite band. In Rainbows was on repeat all afternoon.", value: "Radiohead"},
		{key: "lefty", at: 0.12, text: "Being left-handed means every spiral notebook ever made is my enemy.", value: "left-handed"},
		{key: "teacher", at: 0.16, text: "First guitar lesson with Ingrid today. She's patient and {very|really} funny.", value: "Ingrid"},
		{key: "coffee", at: 0.08, text: "My usual order is an oat milk cortado, extra hot, and the new barista already knows it.", value: "cortado"},
		{key: "heights", at: 0.27, text: "I'm terrified of heights, so the glass-floor observation deck was a hard no for me.", value: "heights"},
		{key: "hometown", at: 0.18, text: "I grew up in Duluth, right on Lake Superior, so {this cold|this winter} is nothing to me.", value: "Duluth"},
		{key: "team", at: 0.28, text: "Opening day is coming and yes, I'm still loyal to the Red Sox.", value: "Red Sox"},
		{key: "comfort", at: 0.45, text: "When I'm down I rewatch Spirited Away. It fixes everything.", value: "Spirited Away"},
		{key: "lactose", at: 0.6, text: "Learned the hard way again that I'm lactose intolerant. That milkshake was a mistake.", value: "lactose intolerant"},
		{key: "language", after: "trip-1", days: -45, text: fmt.Sprintf("I've been doing %s on Duolingo every morning to get ready for the %s trip.", w.tripLanguage, w.tripCity), value: w.tripLanguage},
		{key: "tattoo", at: 0.5, text: "Got a small tattoo of a fern on my left wrist. Maya says it suits me.", value: "fern"},
		{key: "blood", at: 0.35, text: fmt.Sprintf("Donated blood today. I'm %s, so they call me every few months.", w.bloodType), value: w.bloodType},
		{key: "boardgame", at: 0.22, text: "Wingspan is my favourite board game by far, even when I lose.", value: "Wingspan"},
		{key: "podcast", at: 0.14, text: "99% Invisible keeps me sane on the commute. I never miss an episode.", value: "99% Invisible"},
		{key: "locker", at: 0.64, text: fmt.Sprintf("Writing this down before I forget: my locker code at the climbing gym is %s.", w.lockerCode), value: w.lockerCode},
		{key: "garage", at: 0.66, text: fmt.Sprintf("The new garage code for our building is %s, the old one stopped working.", w.garageCode), value: w.garageCode},

		// changed: an old value, then a new one.
		{key: "city-old", at: 0.04, text: "I've lived in Boston for six years and these winters still flatten me.", value: "Boston"},
		{key: "city-new", at: 0.40, text: "The movers finally came. I officially live in Denver now!", value: "Denver"},
		{key: "job-old", at: 0.06, text: "Quarter end at Harbor Insurance again. Being a data analyst there means spreadsheets until my eyes cross.", value: "data analyst"},
		{key: "job-new", at: 0.50, text: "Big news: I accepted the UX researcher offer at Alpine Outfitters. First day is in two weeks!", value: "UX researcher"},
		{key: "car-old", at: 0.10, text: "My old blue Subaru wouldn't start this morning, third time this month.", value: "Subaru"},
		{key: "car-new", at: 0.62, text: "Drove home my new-to-me RAV4 today, forest green, only forty thousand miles.", value: "RAV4"},
		{key: "therapist-old", at: 0.07, text: "Dr. Levin said something in therapy today that really stuck with me.", value: "Levin"},
		{key: "therapist-new", at: 0.47, text: "First session with my new therapist, Dr. Okafor. I think it's a good fit.", value: "Okafor"},
		{key: "rent-old", at: 0.09, text: fmt.Sprintf("Rent went up again, to %s a month for this tiny place.", w.oldRent), value: w.oldRent},
		{key: "rent-new", at: 0.43, text: fmt.Sprintf("Rent at the new apartment is %s a month and we even get a balcony.", w.newRent), value: w.newRent},
		{key: "pb-old", at: 0.25, text: fmt.Sprintf("Ran a 10K in %s this morning, a new personal best.", w.oldPB), value: w.oldPB},
		{key: "pb-new", at: 0.72, text: fmt.Sprintf("New 10K personal best: %s! The altitude training is paying off.", w.newPB), value: w.newPB},
		{key: "dating", at: 0.02, text: "Maya and I have been together for almost three years now and she still laughs at my puns.", value: "three years"},
		{key: "engaged", at: 0.80, text: "I proposed to Maya at sunset at Red Rocks and she said yes!", value: "proposed"},
		{key: "gym-old", at: 0.11, text: "Bouldering at Brooklyn Boulders tonight, my forearms are toast.", value: "Brooklyn Boulders"},
		{key: "gym-new", at: 0.52, text: "Signed up at Movement Baker, the climbing gym ten minutes from our new place.", value: "Movement Baker"},
		{key: "commute-old", at: 0.13, text: "I take the Orange Line to the office, about thirty-five minutes door to door.", value: "Orange Line"},
		{key: "commute-new", at: 0.58, text: "I bike to the Alpine office now, fifteen minutes along the creek path.", value: "bike to the Alpine office"},
		{key: "fav-old", at: 0.15, text: "Pho Hoa in Dorchester is my favourite restaurant, nothing comes close.", value: "Pho Hoa"},
		{key: "fav-new", at: 0.61, text: "New favourite restaurant unlocked: Sap Sua on Colfax. Better than anything I had back east.", value: "Sap Sua"},

		// alias: said with one name, asked with another.
		{key: "sister-job", at: 0.14, text: "My sister just got promoted to charge nurse in the ER. So proud of her.", value: "charge nurse"},
		{key: "sister-dog", at: 0.23, text: fmt.Sprintf("Cathy's dog %s is a border collie with more energy than all of us combined.", w.sisterDog), value: "border collie"},
		{key: "sister-city", at: 0.36, text: "Catherine lives in Portland, Oregon, so every visit takes some planning.", value: "Portland"},
		{key: "sister-kids", at: 0.6, text: "My sister's twins, Leo and Ada, lost their first teeth on the same day.", value: "Leo and Ada"},
		{key: "sister-bday", at: 0.74, text: fmt.Sprintf("Catherine's birthday is %s, I need to mail her card this week.", w.sisterBirthday), value: w.sisterBirthday},
		{key: "sister-class", at: 0.7, text: "Cathy signed up for a pottery class on Wednesday nights and already made a lopsided bowl.", value: "pottery"},
		{key: "dad-surgery", at: 0.31, text: "Dad's hip replacement is booked for the 9th. He's pretending he isn't nervous.", value: "hip replacement"},
		{key: "dad-job", at: 0.17, text: "Bob retired after thirty-five years as a machinist and now he doesn't know what to do with himself.", value: "machinist"},
		{key: "dad-fish", at: 0.76, text: fmt.Sprintf("Dad caught a %s pike up at the lake and sent me eleven photos of it.", w.fishWeight), value: "pike"},
		{key: "nana-cake", at: 0.46, text: "Nana's famous lemon cake recipe is finally written down, after forty years of \"a bit of this\".", value: "lemon cake"},
		{key: "nana-age", at: 0.56, text: "Ruth turns 90 next week and she wants a party with a live band.", value: "90"},
		{key: "nana-bridge", at: 0.69, text: "Grandma still plays bridge every Thursday and she still takes it very seriously.", value: "bridge"},
		{key: "boss-leave", at: 0.2, text: "Marc is going on parental leave after the spring release, so I'm covering some of his meetings.", value: "parental leave"},
		{key: "boss-remote", at: 0.34, text: "My boss approved my remote days: Tuesdays and Thursdays from home.", value: "Tuesdays and Thursdays"},
		{key: "jonah-bakery", at: 0.26, text: "My best friend finally opened his bakery. It's called Rise & Shine and the cardamom buns sold out by ten.", value: "Rise & Shine"},
		{key: "jonah-wedding", at: 0.67, text: "Jonah is getting married in Vermont next fall and asked me to be his best man.", value: "Vermont"},
		{key: "maya-job", at: 0.13, text: "My girlfriend is a pediatric dentist, so candy is a sore subject in our home.", value: "pediatric dentist"},
		{key: "maya-flowers", at: 0.39, text: "Maya's favourite flowers are peonies. Noting that for later.", value: "peonies"},
		{key: "therapist-advice", at: 0.54, text: "My therapist suggested journaling for ten minutes before bed. Night one done.", value: "journaling"},

		// distractor: the same words around a different fact.
		{key: "kathy-cat", at: 0.12, text: fmt.Sprintf("Kathy from work has a cat named %s who apparently bites everyone but her.", w.coworkerCat), value: w.coworkerCat},
		{key: "kathy-allergy", at: 0.24, text: "Kathy from work is allergic to shellfish, so the team lunch moved to a taco place.", value: "shellfish"},
		{key: "mark-training", at: 0.44, text: "My neighbour Mark is training for his first Ironman and runs past our window at 5am.", value: "Ironman"},
		{key: "catalina", at: 0.29, text: "My old roommate Catalina just moved to Miami for a job at a design studio.", value: "Miami"},
		{key: "almost-dog", at: 0.19, text: "We almost adopted a beagle named Waffles from the shelter, but the landlord said no.", value: "Waffles"},
		{key: "nana-surgery", at: 0.51, text: "Nana had cataract surgery and says all the colours look brighter now.", value: "cataract"},
		{key: "maya-bday", at: 0.37, text: fmt.Sprintf("Maya's birthday is %s and I already hid the present in the closet.", w.mayaBirthday), value: w.mayaBirthday},
		{key: "maya-conf", at: 0.48, text: "Maya flies to Austin on Thursday for a dental conference.", value: "Austin"},
		{key: "sister-cat", at: 0.82, text: fmt.Sprintf("Cathy adopted a grey cat called %s, and the dog is not thrilled about it.", w.sisterCat), value: w.sisterCat},
		{key: "maya-restaurant", at: 0.65, text: "Maya's favourite restaurant is Tatte, she'd go every day if she could.", value: "Tatte"},
		{key: "intern", at: 0.38, text: "Jonas, the new intern, is from Stockholm and already better at Excel than me.", value: "Stockholm"},
		{key: "dad-car", at: 0.53, text: "Dad bought a red pickup truck at 68 years old. No notes.", value: "pickup"},

		// trips with dates.
		{key: "trip-booked", after: "trip-1", days: -22, text: fmt.Sprintf("Booked the flights to %s! We leave in about three weeks.", w.tripCity), value: w.tripCity},
		{key: "trip-1", at: 0.555, text: fmt.Sprintf("Landed in %s! Jet lag is real but the light here is gorgeous.", w.tripCity), value: w.tripCity},
		{key: "trip-2", after: "trip-1", days: 5, text: fmt.Sprintf("Last day in %s. I'm going to miss the food and the little tiled streets.", w.tripCity), value: w.tripCity},
		{key: "roadtrip", at: 0.88, text: "Road trip to Santa Fe with Maya this weekend, green chile on everything.", value: "Santa Fe"},
		{key: "dad-surgery-done", after: "dad-surgery", days: 8, text: "Dad's surgery went well. He's already complaining about the hospital food, which is a great sign.", value: "went well"},
	}
}

// questions about the plants, each in words a person would use: some share
// the source's key words, some only its meaning.
func (w world) questions() []qdef {
	q := func(typ, text string, keys ...string) qdef { return qdef{typ: typ, text: text, keys: keys} }
	qw := func(typ, text, want, key string) qdef {
		return qdef{typ: typ, text: text, keys: []string{key}, want: want}
	}
	f, c, a, d := dataset.TypeFact, dataset.TypeChanged, dataset.TypeAlias, dataset.TypeDistractor
	return []qdef{
		q(f, "What am I allergic to?", "allergy"),
		q(f, "Is there a medication I need to steer clear of?", "allergy"),
		q(f, "What's my cat's name?", "cat"),
		qw(f, "What does my cat look like?", w.catColour, "cat"),
		q(f, "When is my birthday?", "birthday"),
		q(f, "What date do I turn a year older?", "birthday"),
		q(f, "What is my favourite novel?", "book"),
		q(f, "What's my favourite book?", "book"),
		q(f, "Which band do I love the most?", "band"),
		q(f, "What group's music do I like best?", "band"),
		q(f, "What's my favourite band?", "band"),
		q(f, "Am I left-handed or right-handed?", "lefty"),
		q(f, "Which hand do I write with?", "lefty"),
		q(f, "Who is my guitar teacher?", "teacher"),
		q(f, "Who gives me music lessons?", "teacher"),
		q(f, "What's my usual coffee order?", "coffee"),
		q(f, "What do I drink at the café every morning?", "coffee"),
		q(f, "What am I scared of?", "heights"),
		q(f, "Do I have any phobias?", "heights"),
		q(f, "Where did I grow up?", "hometown"),
		q(f, "Where am I from originally?", "hometown"),
		q(f, "What's my hometown?", "hometown"),
		q(f, "Which baseball team do I root for?", "team"),
		q(f, "What movie do I watch when I'm feeling down?", "comfort"),
		q(f, "Can I have dairy?", "lactose"),
		q(f, "Which language am I learning?", "language"),
		qw(f, "What app am I using to practice a language?", "Duolingo", "language"),
		q(f, "What tattoo do I have?", "tattoo"),
		q(f, "Do I have any body art?", "tattoo"),
		q(f, "What's my blood type?", "blood"),
		q(f, "Which blood group am I?", "blood"),
		q(f, "What is my favourite board game?", "boardgame"),
		q(f, "Which podcast do I listen to on my commute?", "podcast"),
		q(f, "What do I listen to on the way to work?", "podcast"),
		q(f, "What's my locker code at the climbing gym?", "locker"),
		q(f, "What is the code for our building's garage?", "garage"),
		q(f, "How do I open the garage door at home?", "garage"),

		// Keyword questions: a name or a number carries them.
		qw(f, fmt.Sprintf("What is the code %s for?", w.lockerCode), "locker code", "locker"),
		qw(f, fmt.Sprintf("Which door does %s open?", w.garageCode), "garage", "garage"),
		qw(f, "When do I listen to 99% Invisible?", "commute", "podcast"),
		qw(f, "What is Wingspan?", "favourite board game", "boardgame"),
		qw(f, "Who is Ingrid?", "guitar lesson", "teacher"),
		qw(f, "What's special about Duluth for me?", "grew up", "hometown"),
		qw(f, "Who turns 90?", "turns 90", "nana-age"),
		qw(c, fmt.Sprintf("What costs %s a month?", w.newRent), "Rent at the new apartment", "rent-new"),
		qw(d, "What happened on the 9th?", "hip replacement", "dad-surgery"),
		qw(d, "Who is Jonas?", "intern", "intern"),

		q(c, "Which city do I live in now?", "city-new"),
		q(c, "Where's home these days?", "city-new"),
		q(c, "Where did I live before I moved to Denver?", "city-old"),
		q(c, "Which city did I move away from?", "city-old"),
		q(c, "What's my job now?", "job-new"),
		qw(c, "Where do I work these days?", "Alpine Outfitters", "job-new"),
		q(c, "What did I do for work before I became a UX researcher?", "job-old"),
		qw(c, "Which company did I work for before Alpine Outfitters?", "Harbor Insurance", "job-old"),
		q(c, "What car do I drive now?", "car-new"),
		q(c, "What car did I have before the RAV4?", "car-old"),
		q(c, "Who is my therapist now?", "therapist-new"),
		q(c, "Who was my therapist before Dr. Okafor?", "therapist-old"),
		q(c, "How much rent do I pay now?", "rent-new"),
		q(c, "What was my rent back in Boston?", "rent-old"),
		q(c, "What is my current 10K personal best?", "pb-new"),
		q(c, "What was my best 10K time before I broke 50 minutes?", "pb-old"),
		q(c, "How long had Maya and I been together before we got engaged?", "dating"),
		q(c, "Am I engaged?", "engaged"),
		q(c, "Which climbing gym do I go to now?", "gym-new"),
		q(c, "Where did I go bouldering when I lived in Boston?", "gym-old"),
		q(c, "How do I get to work these days?", "commute-new"),
		q(c, "How did I commute before I changed jobs?", "commute-old"),
		q(c, "What's my favourite restaurant now?", "fav-new"),
		q(c, "Which restaurant did I love most before the move?", "fav-old"),

		q(a, "What does Cathy do for work?", "sister-job"),
		q(a, "What is Catherine's job?", "sister-job"),
		q(a, "What breed is my sister's dog?", "sister-dog"),
		q(a, "What kind of dog does Catherine have?", "sister-dog"),
		q(a, "Where does Cathy live?", "sister-city"),
		q(a, "Which city is my sister in?", "sister-city"),
		q(a, "What are Cathy's kids called?", "sister-kids"),
		q(a, "What are the names of Catherine's twins?", "sister-kids"),
		q(a, "When is Cathy's birthday?", "sister-bday"),
		q(a, "When is my sister's birthday?", "sister-bday"),
		q(a, "What class is my sister taking?", "sister-class"),
		q(a, "What surgery is Bob having?", "dad-surgery"),
		q(a, "What operation did Robert need?", "dad-surgery"),
		q(a, "What did my father do for a living?", "dad-job"),
		q(a, "What was Robert's trade before he retired?", "dad-job"),
		q(a, "What fish did Bob catch?", "dad-fish"),
		q(a, "How did my father's operation go?", "dad-surgery-done"),
		q(a, "What is my grandmother's famous dessert?", "nana-cake"),
		q(a, "What does Ruth bake?", "nana-cake"),
		q(a, "How old is my grandmother turning?", "nana-age"),
		q(a, "What card game does Ruth play?", "nana-bridge"),
		q(a, "Why is Marcus taking time off?", "boss-leave"),
		q(a, "Which days does Marcus let me work from home?", "boss-remote"),
		q(a, "Which days did Marc approve for remote work?", "boss-remote"),
		q(a, "What is the name of Jonah's bakery?", "jonah-bakery"),
		q(a, "Where is my best friend's wedding?", "jonah-wedding"),
		q(a, "What does Maya do for a living?", "maya-job"),
		q(a, "What flowers does my fiancée like?", "maya-flowers"),
		q(a, "What did Dr. Okafor suggest I try?", "therapist-advice"),

		q(d, "What's the name of Kathy's cat?", "kathy-cat"),
		q(d, "Whose cat bites everyone?", "kathy-cat"),
		q(d, "What is my coworker Kathy allergic to?", "kathy-allergy"),
		q(d, "What is my neighbour Mark training for?", "mark-training"),
		q(d, "Where did Catalina move?", "catalina"),
		q(d, "What was the name of the dog we almost adopted?", "almost-dog"),
		qw(d, "What breed was the shelter dog we nearly took home?", "beagle", "almost-dog"),
		q(d, "What surgery did Nana have?", "nana-surgery"),
		q(d, "Who in my family had eye surgery?", "nana-surgery"),
		q(d, "When is Maya's birthday?", "maya-bday"),
		q(d, "Where is Maya's conference?", "maya-conf"),
		q(d, "What is the name of Cathy's cat?", "sister-cat"),
		qw(d, "What is Cathy's dog called?", w.sisterDog, "sister-dog"),
		q(d, "Which restaurant does Maya love?", "maya-restaurant"),
		q(d, "Where is the intern Jonas from?", "intern"),
		qw(d, "Which intern is from Stockholm?", "Jonas", "intern"),
		q(d, "What kind of vehicle did my dad buy?", "dad-car"),
		q(d, "What is my dad's new car?", "dad-car"),
		q(d, "Where does my old roommate live now?", "catalina"),
	}
}
