// Package recall finds what the companion remembers: hybrid retrieval
// (full text with irregular word forms and people's aliases, vectors,
// recency and importance, fused by scaled scores) over a memory.Store,
// with time expressions ("last week", "in May") read as ranges, ranked
// first; the system
// prompt's memory slot; and the companion's recall tool.
//
// It only reads: it must never write to the memory store, never let one
// user's query reach another user's memories, and never return a hit
// without the messages it came from.
package recall

import (
	"context"
	"errors"
	"fmt"
	"github.com/os1ai/os1/internal/memory"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/os1ai/os1/internal/clock"
)

// Mode chooses the retrievers Recall fuses.
type Mode int

const (
	Hybrid     Mode = iota // full text and vectors (text only without an Embedder)
	TextOnly               // BM25 full text
	VectorOnly             // cosine similarity; needs an Embedder
)

func (m Mode) String() string {
	switch m {
	case TextOnly:
		return "text"
	case VectorOnly:
		return "vector"
	default:
		return "hybrid"
	}
}

// Fusion chooses how Recall merges the full-text and vector lists.
type Fusion int

const (
	// FuseScores adds each retriever's scores, scaled to [0, 1] over its
	// candidates (min-max), weighted TextWeight for full text and
	// 1 − TextWeight for vectors. It keeps how sure each list is: a
	// document far ahead in one list stays ahead, and a list whose
	// candidates all score alike moves nothing much.
	FuseScores Fusion = iota
	// FuseRanks is reciprocal rank fusion, Σ 1/(RRFK + rank): it keeps
	// only the order of each list, so a weak list's first place counts
	// as much as a confident one's.
	FuseRanks
)

// Options tune Recall. Start from DefaultOptions: a zero weight
// turns its boost off, while zero counts, durations and MaxOverlap take their
// defaults.
//
// The fused score of a document d (FuseScores, the default) is
//
//	score(d) = TextWeight · bm25'(d) + (1 − TextWeight) · cos'(d)
//	         + ½ · (RecencyWeight · 2^(−age(d)/RecencyHalfLife)
//	                + ImportanceWeight · hitImportance(d))
//
// where bm25' and cos' are the full-text and vector scores scaled min-max
// to [0, 1] over each retriever's candidates (0 for a document it did not
// return). Unless FixedWeights, TextWeight is then, per query,
// T·p_text / (T·p_text + (1 − T)·p_vec) with T the option, where p is a
// list's peak: 1 − the mean scaled score of its first 20. A list whose
// first places all score alike (a common word; small talk near every
// question) leaves the order to the other, a list with a clear lead keeps
// it. With FuseRanks, the first line is Σ_r 1/(RRFK + rank_r(d)) over
// the retrievers r that returned d, and the boosts are scaled by
// 1/(RRFK + 1) instead of ½. Either way the boosts are worth a fraction of
// a first place in one list (½): they order near-ties and lift nothing a
// retriever ranked low. importance is the item's Importance, 0.5 for
// journals and 0 for messages; age is measured from the hit's Time to the
// clock's now.
//
// A time expression in the query's words ("last month", "in May") is a
// preference, not a filter: the documents in its range come first, then
// the rest as ranked without the range (people mention an event after it
// happened, and the dates they give are loose). An explicit range
// (Query.From, Query.To) and Search (the memory page) filter.
//
// Then, best first, a hit whose words overlap a better hit's by MaxOverlap
// or more (Jaccard over lower-cased words) is moved behind every hit that
// does not, so ten wordings of the same small talk do not fill the list;
// hits with the same text as a better one are dropped. A moved hit keeps its
// score, so Score is not monotone in such a list.
type Options struct {
	Mode       Mode
	Fusion     Fusion
	TextWeight float64 // FuseScores: full text's share, (0, 1); default 0.45
	// FixedWeights keeps TextWeight for every query; by default
	// (FuseScores) each query's shares are TextWeight and 1 − TextWeight
	// each times how far that list's first places stand out (see Options).
	FixedWeights     bool
	Candidates       int           // per retriever; default 100
	RRFK             float64       // FuseRanks; default 10
	RecencyWeight    float64       // default 0.05
	RecencyHalfLife  time.Duration // default 90 days
	ImportanceWeight float64       // default 0.3
	// MinSimilarity drops vector hits whose cosine is at or below it: the
	// vector side always returns its nearest documents, related or not, and
	// an unrelated one must not collect fusion score. Default 0.
	MinSimilarity float64
	// SearchMinSimilarity is the cosine from which Search (the memory
	// page, not the prompt) shows a hit that holds none of the query's
	// words; default DefaultSearchMinSimilarity (search.go).
	SearchMinSimilarity float64
	// MaxOverlap is the word overlap (0..1] from which a hit counts as a
	// near-duplicate of a better one; default 0.6; above 1 keeps them in
	// place.
	MaxOverlap float64

	// PromptKinds are what RecallForPrompt draws on; default items and
	// journals (the raw messages are already in the conversation window).
	PromptKinds []memory.DocKind

	// OnEmbedError, when set, is told that embedding a query failed and
	// Recall goes on with full text alone; when nil, Recall returns the error.
	OnEmbedError func(error)
}

// DefaultOptions are the weights chosen on the memory benchmark's
// tuning seed (bench/memory, seed 1) and reported on other seeds.
func DefaultOptions() Options {
	return Options{
		Mode:             Hybrid,
		TextWeight:       0.45,
		Candidates:       100,
		RRFK:             10,
		RecencyWeight:    0.05,
		RecencyHalfLife:  90 * 24 * time.Hour,
		ImportanceWeight: 0.3,
		MaxOverlap:       0.6,
		PromptKinds:      []memory.DocKind{memory.DocItem, memory.DocJournal},
	}
}

// Recaller is hybrid retrieval over a Store: it parses time expressions out
// of the query, runs full-text search (with irregular word forms added, see
// ExpandWordForms) and vector search, and fuses the two lists.
// It never mixes users: every search is scoped to the one user asked for.
type Recaller struct {
	s     memory.Store
	emb   memory.Embedder
	clock clock.Clock
	opts  Options
}

// New returns a Recaller. emb may be nil: then only full text is used.
func New(s memory.Store, emb memory.Embedder, c clock.Clock, opts Options) *Recaller {
	if opts.Candidates <= 0 {
		opts.Candidates = 100
	}
	if opts.RRFK <= 0 {
		opts.RRFK = 10
	}
	if opts.TextWeight <= 0 || opts.TextWeight >= 1 {
		opts.TextWeight = 0.45
	}
	if opts.MaxOverlap <= 0 {
		opts.MaxOverlap = 0.6
	}
	if opts.RecencyHalfLife <= 0 {
		opts.RecencyHalfLife = 90 * 24 * time.Hour
	}
	if len(opts.PromptKinds) == 0 {
		opts.PromptKinds = []memory.DocKind{memory.DocItem, memory.DocJournal}
	}
	if c == nil {
		c = clock.System{}
	}
	return &Recaller{s: s, emb: emb, clock: c, opts: opts}
}

// Recall returns the user's memories most relevant to q, best first, at most
// q.Limit (default 10). When q.From and q.To are both zero, a time expression
// in q.Text ("last week", "in May") becomes the range, read in loc (UTC when
// nil). Every hit has Sources; a message hit comes with the turn before it
// (units.go).
func (r *Recaller) Recall(ctx context.Context, userID string, q memory.Query, loc *time.Location) ([]memory.Hit, error) {
	rt, err := r.retrieve(ctx, userID, q, loc, true)
	if err != nil || rt.lists == nil {
		return nil, err
	}
	hits := r.fuse(rt, rt.q.Limit)
	if _, err := r.withUnits(ctx, userID, hits); err != nil {
		return nil, fmt.Errorf("recall %q: %w", q.Text, err)
	}
	return hits, nil
}

// retrieval is what the retrievers returned for one query, before fusion.
type retrieval struct {
	q        memory.Query // with Limit defaulted and any time expression read out
	now      time.Time
	timeOnly bool           // the query was only a time expression: its range is the match
	soft     bool           // q's range was read from the words and is a preference (wideText, wideVector)
	fullText string         // what full text searched for: words, word forms, aliases
	cands    int            // the candidates asked of each retriever
	lists    [][]memory.Hit // every list below that ran; nil when nothing was searched
	text     []memory.Hit   // the full-text list (Score: BM25); nil without one
	vector   []memory.Hit   // the vector list (Score: cosine); nil without one
	// With soft, the same retrievers without the range.
	wideText, wideVector []memory.Hit
}

func (r *Recaller) retrieve(ctx context.Context, userID string, q memory.Query, loc *time.Location, soft bool) (retrieval, error) {
	if loc == nil {
		loc = time.UTC
	}
	if q.Limit <= 0 {
		q.Limit = 10
	}
	now := r.clock.Now()
	semantic := q.Text // what the vector side embeds
	rt := retrieval{now: now}
	parsed := false
	if q.From.IsZero() && q.To.IsZero() {
		if rest, from, to, ok := ParseTime(q.Text, now, loc); ok {
			q.Text, q.From, q.To = rest, from, to
			parsed = true
			if strings.TrimSpace(rest) != "" {
				semantic = rest
			} else {
				rt.timeOnly = true
			}
		}
	}
	rt.q = q
	if strings.TrimSpace(semantic) == "" {
		return rt, nil
	}

	// One lookup of the query's names for both full-text searches (with
	// and without a range read from the words). The vector side embeds the
	// question as typed, the text the turn path has already embedded.
	ctx = withNameMemo(ctx)
	sub := q
	sub.Limit = max(r.opts.Candidates, q.Limit)
	rt.cands = sub.Limit
	rt.lists = [][]memory.Hit{}
	if err := r.retrieveLists(ctx, userID, sub, semantic, &rt, true); err != nil {
		return rt, err
	}
	if soft && parsed && !rt.timeOnly {
		// A range read from the words is a preference, not a filter: people
		// mention an event after it happened ("the course I finished last
		// month", said this month), and the dates they give are loose. The
		// documents in the range are ranked on their own and again among all
		// documents, so they collect from both lists and lead.
		wide := sub
		wide.From, wide.To = time.Time{}, time.Time{}
		if err := r.retrieveLists(ctx, userID, wide, semantic, &rt, false); err != nil {
			return rt, err
		}
		rt.soft = true
	}
	return rt, nil
}

// retrieveLists runs the retrievers of the mode for q and appends their
// lists to rt; with primary, they are also rt's text and vector lists.
func (r *Recaller) retrieveLists(ctx context.Context, userID string, sub memory.Query, semantic string, rt *retrieval, primary bool) error {
	// In hybrid mode the vector side (which mostly waits for the query's
	// embedding) runs beside the full-text search; the lists are appended in
	// the same order as before, text first.
	var vec <-chan vectorResult
	if r.opts.Mode == Hybrid {
		vec = r.searchVectorAsync(ctx, userID, semantic, sub)
	}
	if r.opts.Mode != VectorOnly {
		tq := sub
		tq.Text = ExpandWordForms(sub.Text) + r.aliasTerms(ctx, userID, sub.Text)
		hits, err := r.s.SearchText(ctx, userID, tq)
		if err != nil {
			if vec != nil {
				(<-vec).rethrow()
			}
			return fmt.Errorf("recall %q: %w", sub.Text, err)
		}
		if primary {
			rt.fullText, rt.text = tq.Text, hits
		} else {
			rt.wideText = hits
		}
		rt.lists = append(rt.lists, hits)
	}
	if r.opts.Mode != TextOnly {
		var hits []memory.Hit
		var err error
		if vec != nil {
			v := <-vec
			v.rethrow()
			hits, err = v.hits, v.err
		} else {
			hits, err = r.searchVector(ctx, userID, semantic, sub)
		}
		switch {
		case err == nil:
			hits = slices.DeleteFunc(hits, func(h memory.Hit) bool { return h.Score <= r.opts.MinSimilarity })
			if primary {
				rt.vector = hits
			} else {
				rt.wideVector = hits
			}
			rt.lists = append(rt.lists, hits)
		case r.opts.Mode == Hybrid && r.opts.OnEmbedError != nil && errors.Is(err, errEmbed):
			r.opts.OnEmbedError(err)
		default:
			return fmt.Errorf("recall %q: %w", semantic, err)
		}
	}
	return nil
}

// aliasTerms returns, for every person the query names by a name or alias
// (as extraction recorded them, or as the user's messages introduce them:
// names.go), that person's other names, so "Cathy" also finds messages
// that say "Catherine" or "my sister"; and the other kin words for a
// relative the query names ("father": "dad"). Failures just mean no
// expansion.
func (r *Recaller) aliasTerms(ctx context.Context, userID, text string) string {
	query := " " + normalizeWords(text) + " "
	var extra []string
	for _, w := range queryNames(text) { // the other kin words for a relative
		if kinGroup(w) != nil && !strings.Contains(query, " "+w+" ") {
			extra = append(extra, w)
		}
	}
	for _, w := range r.introducedAliases(ctx, userID, text) {
		if !strings.Contains(query, " "+w+" ") && !slices.Contains(extra, w) {
			extra = append(extra, w)
		}
	}
	people, err := r.s.Entities(ctx, userID)
	if err != nil {
		people = nil
	}
	for _, p := range people {
		names := append([]string{p.Name}, p.Aliases...)
		named := false
		for _, n := range names {
			if w := normalizeWords(n); w != "" && strings.Contains(query, " "+w+" ") {
				named = true
				break
			}
		}
		if !named {
			continue
		}
		for _, n := range names {
			if w := normalizeWords(n); w != "" && !strings.Contains(query, " "+w+" ") {
				extra = append(extra, w)
			}
		}
	}
	if len(extra) == 0 {
		return ""
	}
	return " " + strings.Join(extra, " ")
}

// normalizeWords lower-cases s and keeps letters and digits, one space apart.
func normalizeWords(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// errEmbed marks a failure of the Embedder (as opposed to the Store).
var errEmbed = errors.New("embed query")

func (r *Recaller) searchVector(ctx context.Context, userID, text string, q memory.Query) ([]memory.Hit, error) {
	if r.emb == nil {
		if r.opts.Mode == VectorOnly {
			return nil, errors.New("vector recall needs an embedder, and none is configured")
		}
		return nil, nil
	}
	vecs, err := r.emb.Embed(ctx, []string{text})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errEmbed, err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("%w: embedder returned %d vectors for one text", errEmbed, len(vecs))
	}
	return r.s.SearchVector(ctx, userID, vecs[0], q)
}

// fuse merges the retrievers' lists into one ranking (see Options), plus
// the recency and importance boosts, dropping duplicates (the same document
// from two lists, and documents with the same text as a better one) and
// moving near-duplicates to the end.
func (r *Recaller) fuse(rt retrieval, limit int) []memory.Hit {
	type acc struct {
		hit   memory.Hit
		score float64
	}
	byKey := map[string]*acc{}
	var order []*acc
	add := func(h memory.Hit, score float64) {
		key := hitKey(h)
		a := byKey[key]
		if a == nil {
			a = &acc{hit: h}
			byKey[key] = a
			order = append(order, a)
		}
		a.score += score
	}
	var unit float64 // the score of a first place in one list
	if r.opts.Fusion == FuseRanks {
		for _, list := range rt.lists {
			for i, h := range list {
				add(h, 1/(r.opts.RRFK+float64(i+1)))
			}
		}
		unit = 1 / (r.opts.RRFK + 1)
	} else {
		// A list shorter than the candidates asked for holds every document
		// the retriever would return: the rest score 0 (BM25's floor, and
		// the cosine from which the vector side drops a document).
		floor := func(lists ...[]memory.Hit) float64 {
			if slices.ContainsFunc(lists, func(l []memory.Hit) bool { return len(l) >= rt.cands }) {
				return math.Inf(1)
			}
			return 0
		}
		tn := normalized(floor(rt.text, rt.wideText), rt.text, rt.wideText)
		vn := normalized(max(floor(rt.vector, rt.wideVector), r.opts.MinSimilarity), rt.vector, rt.wideVector)
		wt := r.opts.TextWeight
		if !r.opts.FixedWeights && len(tn) > 0 && len(vn) > 0 {
			// Each list's share is weighed by how far its first places stand
			// out (peak): a list whose top all score alike moves little.
			ct, cv := peak(tn, peakDepth), peak(vn, peakDepth)
			if a := wt*ct + (1-wt)*cv; a > 0 {
				wt = wt * ct / a
			}

		}
		for _, v := range tn {
			add(v.hit, wt*v.score)
		}
		for _, v := range vn {
			add(v.hit, (1-wt)*v.score)
		}
		unit = 0.5
	}
	if rt.soft {
		// In the range first: no relevance score reaches 10.
		for _, a := range order {
			if inRange(a.hit, rt.q.From, rt.q.To) {
				a.score += 10
			}
		}
	}
	for _, a := range order {
		boost := r.opts.ImportanceWeight * hitImportance(a.hit)
		if !a.hit.Time.IsZero() {
			age := max(rt.now.Sub(a.hit.Time), 0)
			boost += r.opts.RecencyWeight * math.Exp2(-float64(age)/float64(r.opts.RecencyHalfLife))
		}
		a.score += unit * boost
	}
	slices.SortStableFunc(order, func(a, b *acc) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(a.hit.ID, b.hit.ID)
	})
	seen := map[string]bool{}
	out := make([]memory.Hit, 0, min(limit, len(order)))
	var kept []map[string]bool // word sets of out
	var near []memory.Hit      // near-duplicates, best first
	for _, a := range order {
		if len(out) == limit {
			break
		}
		norm := strings.ToLower(strings.Join(strings.Fields(a.hit.Text), " "))
		if seen[norm] || len(a.hit.Sources) == 0 {
			continue
		}
		seen[norm] = true
		a.hit.Score = a.score
		words := wordSet(norm)
		if slices.ContainsFunc(kept, func(k map[string]bool) bool { return overlap(words, k) >= r.opts.MaxOverlap }) {
			near = append(near, a.hit)
			continue
		}
		kept = append(kept, words)
		out = append(out, a.hit)
	}
	return append(out, near[:min(len(near), limit-len(out))]...)
}

// scored is a hit and its score scaled to [0, 1].
type scored struct {
	hit   memory.Hit
	score float64
}

// normalized merges lists of one retriever (the same document has the
// same score in each) and scales the scores min-max to [0, 1]: the best
// candidate gets 1, and floor 0, or the worst candidate when floor is
// above it (+Inf: the candidates' own minimum, the score of about the
// best document left out); a list of equal scores gets 1 each. Scaling by
// the candidates' own spread makes a BM25 score and a cosine comparable
// without knowing either's range, and keeps one list's margin: a clear
// first place stays far ahead of the rest.
func normalized(floor float64, lists ...[]memory.Hit) map[string]scored {
	out := map[string]scored{}
	lo, hi := floor, math.Inf(-1)
	for _, l := range lists {
		for _, h := range l {
			k := hitKey(h)
			if _, ok := out[k]; ok {
				continue
			}
			out[k] = scored{hit: h, score: h.Score}
			lo, hi = min(lo, h.Score), max(hi, h.Score)
		}
	}
	for k, v := range out {
		if hi > lo {
			v.score = (v.score - lo) / (hi - lo)
		} else {
			v.score = 1
		}
		out[k] = v
	}
	return out
}

// peakDepth is how many of a list's first places peak looks at: twice the
// ten a question usually asks for (on the memory benchmark, 10, 20 and 50
// gave hybrid R@10 0.913, 0.923, 0.909 on LongMemEval dev and 0.783, 0.786,
// 0.786 on the generated set, against 0.909 and 0.770 with fixed weights).
const peakDepth = 20

// peak is how far a list's first place stands out from the rest of its
// first k (scores scaled to [0, 1]): 1 − their mean, so 0 when they all
// score alike; a list shorter than k found nothing more, and its missing
// places count as 0. A list whose first k all score about alike (a common word,
// vectors of small talk) says little about which of them answers.
func peak(m map[string]scored, k int) float64 {
	sc := make([]float64, 0, len(m))
	for _, v := range m {
		sc = append(sc, v.score)
	}
	slices.Sort(sc)
	slices.Reverse(sc)
	sc = sc[:min(len(sc), k)]
	var sum float64
	for _, x := range sc {
		sum += x
	}
	return 1 - sum/float64(k) // places past a short list's end score 0
}

// inRange says whether h is in [from, to) as the store's filter reads it:
// its time, or an item's event time (a zero bound is open).
func inRange(h memory.Hit, from, to time.Time) bool {
	in := func(t time.Time) bool {
		return !t.IsZero() && (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
	}
	return in(h.Time) || (h.Item != nil && in(h.Item.EventTime))
}

// wordSet is the set of words (runs of letters and digits) of lower-cased s.
func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
		m[w] = true
	}
	return m
}

// overlap is the Jaccard index of two word sets: shared words over all words.
func overlap(a, b map[string]bool) float64 {
	shared := 0
	for w := range a {
		if b[w] {
			shared++
		}
	}
	all := len(a) + len(b) - shared
	if all == 0 {
		return 1
	}
	return float64(shared) / float64(all)
}

func hitImportance(h memory.Hit) float64 {
	switch {
	case h.Item != nil:
		return h.Item.Importance
	case h.Kind == memory.DocJournal:
		return 0.5
	default:
		return 0
	}
}

// Prompt formatting.
const (
	bytesPerToken   = 4   // the estimate the companion's prompt budget uses
	maxPromptLine   = 400 // bytes; longer journal entries are shortened
	promptCandidate = 30  // hits considered for the prompt
)

// RecallForPrompt picks the current memories most relevant to the user's
// latest message and formats them as short dated lines, best first, within
// tokenBudget (estimated at 4 bytes a token). It returns the text for the
// system prompt's memory slot and the hits it used; both are empty when
// nothing relevant is found. Superseded items are never included.
func (r *Recaller) RecallForPrompt(ctx context.Context, userID, latestMessage string, tokenBudget int, loc *time.Location) (string, []memory.Hit, error) {
	if tokenBudget <= 0 || strings.TrimSpace(latestMessage) == "" {
		return "", nil, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	hits, err := r.Recall(ctx, userID, memory.Query{Text: latestMessage, Limit: promptCandidate, Kinds: r.opts.PromptKinds}, loc)
	if err != nil {
		return "", nil, err
	}
	text, used := promptText(hits, tokenBudget, loc)
	return text, used, nil
}

// promptLine renders one memory as "- 2025-05-03 (fact) Text", on one line.
func promptLine(h memory.Hit, loc *time.Location) string {
	text := memory.ShortenUTF8(strings.Join(strings.Fields(h.Text), " "), maxPromptLine)
	switch {
	case h.Item != nil:
		when := h.Item.ValidFrom
		if !h.Item.EventTime.IsZero() {
			when = h.Item.EventTime
		}
		return fmt.Sprintf("- %s (%s) %s", promptDay(when, loc), h.Item.Kind, text)
	case h.Kind == memory.DocJournal:
		return fmt.Sprintf("- %s (journal) %s", promptDay(h.Time, loc), text)
	default:
		return fmt.Sprintf("- %s (said) %s", promptDay(h.Time, loc), text)
	}
}

func promptDay(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "undated"
	}
	return t.In(loc).Format("2006-01-02")
}
