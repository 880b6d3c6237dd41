package main

import "time"

// Small talk: what fills the months between the planted facts. It talks
// about the same people, places and things as the facts (the cat, the
// sister, work, allergies, the gym, rent) without ever stating one of them,
// so a question's words alone do not find its answer.

// state is what is true on a given day, so small talk does not contradict
// the story (no manager Marcus after the job change, no hikes before the
// move to the mountains). The tables below are read-only.
type state struct {
	day    time.Time
	moved  bool
	newJob bool
}

func (s state) season() string {
	switch s.day.Month() {
	case time.December, time.January, time.February:
		return "winter"
	case time.March, time.April, time.May:
		return "spring"
	case time.June, time.July, time.August:
		return "summer"
	default:
		return "autumn"
	}
}

// fillerLists are the phrase lists small talk draws on.
var fillerLists = map[string][]string{
	"workthing": {
		"the spreadsheet crashed twice", "the wifi died during my presentation",
		"I spent an hour on a bug that turned out to be a typo", "we actually hit the deadline",
		"my calendar was a solid wall of meetings", "I got into a real flow state for once",
		"the printer jammed on the one document that mattered", "someone replied-all to the whole company",
		"the new project kickoff went better than expected", "I rewrote the same paragraph six times",
	},
	"takeout": {
		"pizza", "pad thai", "a burrito", "sushi", "a falafel wrap", "dumplings", "a poke bowl",
		"a breakfast sandwich", "a bagel with everything", "fried chicken", "a banh mi", "tacos from the truck",
	},
	"mood": {
		"a bit low", "pretty good", "restless", "anxious", "oddly calm", "grateful", "scattered",
		"tired but okay", "weirdly optimistic", "flat",
	},
	"chore": {
		"clean the apartment", "finally do the laundry", "call my dad", "go to the farmers market",
		"sleep in", "reorganize my closet", "fix the wobbly chair", "repot the plants", "go through my email",
	},
	"podtopic": {
		"octopuses", "urban planning", "old shipwrecks", "sleep science", "the history of salt",
		"lighthouses", "con artists", "fungi",
	},
	"walkplace": {
		"downtown", "by the river", "through a neighbourhood I'd never seen", "around the park",
		"past the old train yard", "to the library and back",
	},
}

// fillerTopics are templates for Theo's small talk by topic.
var fillerTopics = map[string][]string{
	"work": {
		"{Work|The day job|Today at work} was {a slog|fine, mostly|surprisingly calm|nonstop|chaotic}: {$workthing}.",
		"{Three|Four|Five} meetings {before lunch|back to back|in a row} today. {I need a nap.|My brain is soup.|Never again.}",
		"I finally {shipped|finished|sent off} the {report|deck|analysis|survey summary} I was {stressing about|dreading|putting off}.",
		"{Someone|A coworker} {microwaved fish|left the fridge open|took my good pen} {again|at the office}. {Small crimes.|The audacity.|I have no words.}",
		"Got a {nice|thoughtful|surprising} {email|message|note} from a {client|teammate|colleague} today and it {made my day|actually meant a lot}.",
		"I keep getting pulled into {calls|projects|threads} that have nothing to do with me.",
		"Working from {home|the kitchen table|the couch} today {with the cat on my lap|in pajamas|with lo-fi on}.",
		"{Performance reviews|Planning season|Budget season} is coming and {everyone is tense|I'm pretending it isn't|I already dread it}.",
		"Lunch at my desk {again|today}, {the glamorous life|very sad|I know, I know}.",
		"I {presented|demoed} {my|our} {findings|prototype|numbers} today and {nobody fell asleep|it landed|I rambled a bit}.",
	},
	"oldjob": {
		"Marcus {moved|cancelled|rescheduled} our one-on-one {again|for the third time}.",
		"Kathy and I {grabbed coffee|took a long lunch|complained about the new system} {today|this afternoon}.",
		"Kathy {brought|baked} {donuts|bagels|cookies} for the team {this morning|today}, {what a hero|so nice of her}.",
		"Marc sent {a novel-length email|another all-hands invite|a very long message} {at 11pm|on a Sunday|late last night}.",
	},
	"newjob": {
		"Priya, my {new|} manager, {asked great questions|gave me a big project|is very direct} {today|this week}.",
		"{Still|Slowly} learning {everyone's names|the codebase|the product} at the new job.",
		"The new office has a {dog|ping pong table|rooftop} and I {love it|am distracted by it}.",
	},
	"food": {
		"{Had|Grabbed|Ate} {$takeout} for {lunch|dinner} {again|today}, {zero regrets|some regrets|no shame}.",
		"I'm {craving|dreaming about|obsessed with} {$takeout} {right now|lately|today}.",
		"{Forgot|Skipped} lunch {again|today} and {ate crackers over the sink|had a sad granola bar|raided the snack drawer}.",
		"{Thinking about|Might try|Want to try} {making something new|a new recipe|something with the squash in the fridge} this weekend.",
		"The {grocery store|farmers market} {was packed|had amazing peaches|was out of oat milk} today.",
		"{Maya|My girlfriend} and I {ordered in|got takeout} {because neither of us could face the kitchen|and watched the rain}.",
		"I {drank|had} {three|four|way too many} coffees today {and I can feel my heartbeat|and regret nothing}.",
	},
	"weather-winter": {
		"It's {snowing sideways|bitterly cold|icy|grey and freezing|dumping snow} {out|today|again} {this morning|}.",
		"{Shoveled|Cleared} the {steps|car|sidewalk} {twice|for an hour} {today|this morning}, {my back hates me|it just keeps coming}.",
		"{Forecast says|Apparently} {more snow|another storm|a deep freeze} {this weekend|tomorrow|all week}.",
		"{Slipped|Almost fell} on the ice {outside|by the bus stop} {today|this morning}. {Dignity gone.|Nobody saw. I think.}",
	},
	"weather-spring": {
		"It's {pouring|drizzling|weirdly warm|so windy} {out|today|again}.",
		"{The trees|The cherry trees|The tulips} {are blooming|finally came out} {and everything smells amazing|on my street}.",
		"I got caught in {the rain|a hailstorm|a downpour} and {I'm soaked|my shoes are ruined|it was kind of fun}.",
		"{Forecast says|Apparently} {storms|a warm spell|more rain} {this weekend|tomorrow|all week}.",
	},
	"weather-summer": {
		"It's {so hot|sweltering|scorching|sticky} {out|today|again}, {the cat is melting|I'm hiding inside|the fan can't keep up}.",
		"{The sunset|The sky} {tonight|this evening} was {unreal|pink and purple|ridiculous}.",
		"{A thunderstorm|A huge storm} rolled in {this afternoon|out of nowhere} and {cooled everything down|knocked the power out for an hour}.",
		"{Forecast says|Apparently} {a heat wave|more storms|smoke from the fires} {this weekend|tomorrow|all week}.",
	},
	"weather-autumn": {
		"It's {crisp|grey|drizzly|windy|gorgeous} {out|today|again}{, sweater weather|}.",
		"The leaves on {our street|the big maple outside} {turned overnight|are everywhere now}.",
		"{First frost|A cold snap|Fog} {this morning|overnight}{, summer is officially over|}.",
		"{Forecast says|Apparently} {an early snow|rain|a warm spell} {this weekend|tomorrow|all week}.",
	},
	"hobby": {
		"Practiced {guitar|chords|that fingerpicking pattern} for {twenty minutes|an hour|way too long} {tonight|today}, {my fingertips hurt|slowly getting it|still sounds rough}.",
		"{The climbing gym|The gym} was {packed|empty|full of teenagers} {tonight|today}, {I sent a V4|I fell off the same problem for an hour|I worked on my footwork}.",
		"{Went for|Squeezed in} a {slow|hilly|cold|short} {three|four|five|six}-mile run {this morning|after work}.",
		"Reading {before bed|on the train|in the bath} is the {best|only calm} part of my {day|week} lately.",
		"{Game night|Board game night} {tonight|with friends}: {I lost badly|I won for once|we played until 1am}.",
		"{Listening to|Started} a {new|weird|great} podcast about {$podtopic}.",
		"Took my camera {out|along} {$walkplace} and got {one good shot|nothing usable|some nice ones}.",
		"I'm {thinking about|seriously considering} {learning to juggle|starting a garden|getting back into drawing}.",
	},
	"feelings": {
		"I'm feeling {$mood} today{, not sure why|, which is nice|, probably the weather|}.",
		"{Slept badly|Slept great|Got about five hours of sleep} last night and {I feel it|it shows|I'm running on coffee}.",
		"Therapy was {hard|useful|exhausting} today{, in a good way|, we talked about my dad|}.",
		"{Some days|Today} I {miss home|feel like I'm doing okay|just want to hide under a blanket}.",
		"{Trying|Really trying} to {be kinder to myself|stop doomscrolling|drink more water|go to bed earlier}.",
		"{Had|There was} a {small|weird|nice} moment {today|this morning} where {a stranger complimented my jacket|I laughed out loud alone on the bus|everything felt fine}.",
	},
	"plans": {
		"{This weekend|Saturday|Tomorrow} I {want to|plan to|might} {$chore}.",
		"{Maya and I|We} are thinking about {a weekend away|redoing the living room|getting a plant that won't die|a dance class}.",
		"I {should|need to} {book a dentist appointment|renew my passport|call the landlord|return that package} {soon|this week}.",
		"{Next month|Soon} I want to {see more friends|save more money|read more|take a real day off}.",
	},
	"cat": {
		"The cat {knocked a glass off the counter|is asleep in the laundry basket|screamed at 4am|discovered the bathtub|is judging me}{ again| right now|}.",
		"{My cat|The cat} {figured out|learned} how to {open the cupboard|turn on the faucet|unzip my bag} {and I'm scared|today}.",
		"Vet {appointment|checkup} for the cat {tomorrow|next week}, {she knows somehow|the carrier is already hidden}.",
	},
	"family": {
		"{Cathy|My sister} {called|texted|FaceTimed} {for an hour|this morning|out of nowhere} {just to chat|to vent|with gossip}.",
		"Dad called {to talk about the weather|to ask how to attach a photo|just to say hi} {again|today}.",
		"{Nana|Grandma} sent {a voice memo|a postcard|a very long text} {today|this week} and it made me {smile|tear up a little}.",
		"Talked to {Jonah|my best friend} {for a bit|on the phone}, {he's doing well|he sounds stressed|we laughed a lot}.",
		"{Cathy|My sister} sent {a video of the twins|a photo of the dog|a meme} and I {can't stop laughing|watched it ten times}.",
		"{Bob|Dad} {mailed|sent} me a newspaper clipping {about the local team|with no explanation|about a recipe}.",
	},
	"maya": {
		"Maya {made me laugh so hard|is out with friends tonight|fell asleep on the couch at 8|is working late again}{ today|}.",
		"{Maya and I|We} {went for a walk|watched the sunset|did the crossword|argued about the dishwasher} {after dinner|this evening|}.",
		"Maya {left me a note|bought me flowers|made coffee before I woke up} {today|this morning}, {I'm lucky|she's the best}.",
	},
	"city": {
		"{The neighbours|Someone upstairs} {are renovating|got a new dog|had a party} {again|until 2am|}.",
		"{Took a long walk|Wandered around} {$walkplace} {and found a great bookstore|and got a little lost|with a podcast on}.",
		"{My bus|The train} was {late|packed|cancelled} {again|this morning}.",
		"Paid rent {today|this morning}{, always painful|, adulthood|}.",
		"The car needs {an oil change|new wipers|a wash} {again|badly}, {adding it to the list|ugh}.",
	},
	"health": {
		"{Allergy season|Pollen} is {brutal|starting|out of control} {this year|already|}, {my eyes are itchy|I sneezed all day}.",
		"{Dentist|Doctor} appointment {tomorrow|next week}, {wish me luck|just a checkup|dreading it}.",
		"{Trying|Started} to {stretch|meditate|walk} every morning{, day three|, going okay|}.",
		"{Caught|Fighting} a {cold|sore throat|headache} {today|this week}{, tea and bed|, not fun|}.",
	},
	"mountains": {
		"{The mountains|The foothills} looked {unreal|so close|purple} {this morning|tonight} from {the balcony|our street}.",
		"Still not used to {the altitude|how dry it is here|how sunny it is here}{, drinking water like it's my job|}.",
		"{Everyone here|Half our street} {owns a dog|has a bike rack|goes skiing} and I feel {left out|like a tourist}.",
	},
	"oldcity": {
		"{The T|The subway} was a mess {again|today}, {thirty minutes for three stops|standing room only}.",
		"{Walked|Ran} along the {river|harbor} {today|after work}{ and it was freezing|, gorgeous|}.",
	},
}

// topicsFor lists the small-talk topics open on a day.
func topicsFor(s state) []string {
	t := []string{"work", "food", "weather-" + s.season(), "hobby", "feelings", "plans", "cat", "family", "maya", "city", "health", "work", "feelings", "food"}
	if s.newJob {
		t = append(t, "newjob")
	} else {
		t = append(t, "oldjob")
	}
	if s.moved {
		t = append(t, "mountains")
	} else {
		t = append(t, "oldcity")
	}
	return t
}

// Samantha's replies: by topic where one fits, else general.
var replies = map[string][]string{
	"": {
		"That sounds like a lot. How are you holding up?", "I love that. What was the best part?",
		"Oh no. Do you want to talk about it?", "Ha, that's very you.", "Tell me more?",
		"How did that make you feel?", "I'm glad you told me.", "Mm, I can picture it.",
		"What would make tomorrow a little easier?", "You've been carrying a lot lately.",
		"Small wins count. That's one.", "That made me smile.", "Honestly? Fair.",
		"I'm here. Take your time.", "What's on your mind tonight?", "That sounds exhausting, in the way good things can be.",
		"Do you want advice, or just someone to listen?", "I'm curious what you'll do next.",
		"That's a lovely detail.", "You sound lighter today.", "I'd have done the same thing.",
		"Be gentle with yourself tonight.", "Okay, I need to hear the rest of that story.",
	},
	"work":           {"Meetings eat whole days. Did you get any time to yourself?", "That's a real accomplishment. Did anyone notice?", "Work sounds loud today. What helped?", "You handled that better than you think."},
	"oldjob":         {"That sounds like a very long week at the office.", "Do you think that will change?", "Office life, in all its glory."},
	"newjob":         {"New jobs take a while to feel like yours.", "It sounds like you're settling in.", "That's a good sign for the new place."},
	"food":           {"Honestly that sounds perfect right now.", "Did you at least enjoy it?", "Food is self-care, mostly.", "I'd like to hear what you'd cook if you had all the time in the world."},
	"weather-winter": {"Stay warm, please.", "Winter is a lot. Do you have a cozy evening planned?", "Hot drink and a blanket, then?"},
	"weather-spring": {"Spring always feels like a fresh start.", "Did you get outside at all?", "That sounds like a good day for a walk."},
	"weather-summer": {"Stay cool and drink water.", "Summer evenings are the best part of it.", "Hide in the shade if you can."},
	"weather-autumn": {"Autumn suits you, I think.", "Good weather for a long walk.", "Cozy evening ahead, then?"},
	"hobby":          {"I love that you make time for that.", "How does it feel compared to when you started?", "That's the kind of thing that adds up."},
	"feelings":       {"Thank you for telling me how you really are.", "That makes sense. What do you need right now?", "Those days happen. It doesn't say anything bad about you."},
	"plans":          {"That sounds like a good plan.", "Do you want me to remind you?", "What would make it feel doable?"},
	"cat":            {"She clearly runs the household.", "Cats are tiny chaos agents.", "I'd like a full report on her antics."},
	"family":         {"It sounds like you two are close.", "How are they doing?", "Family calls can be a lot, in good and bad ways."},
	"maya":           {"You two sound good together.", "That's sweet.", "How's she doing lately?"},
	"city":           {"City life, huh.", "Did that ruin your day or just your hour?", "Neighbours are a mixed blessing."},
	"health":         {"Take care of yourself, okay?", "Rest if you can.", "That's a good habit to build."},
	"mountains":      {"The view sounds like a daily gift.", "It takes a while to feel at home somewhere new.", "Do you miss anything about the old place?"},
	"oldcity":        {"Classic.", "Do you still like living there?", "That sounds very familiar by now."},
	"plant":          {"That's big news.", "Noted.", "How do you feel about it?", "Good to know.", "Oh, wow.", "I'll remember that.", "That's a lot to take in.", "Tell me how it goes."},
	"open":           {"Good morning, Theo. How did you sleep?", "Hey you. How's the day treating you?", "Evening, Theo. What's on your mind?", "Hi! I was wondering how your week was going."},
}
