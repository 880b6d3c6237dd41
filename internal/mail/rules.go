package mail

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The user's rules in plain words. ParseRule understands common phrasings
// without a model and says so plainly when it cannot; a rule only sorts
// (category, importance, archive), it never sends, forwards or deletes.

// ErrRule is the error of a rule ParseRule could not understand; callers
// match it with errors.Is and show the message as it is.
var ErrRule = errors.New("I couldn't understand this rule")

// ruleExamples is shown with every rule that was not understood.
const ruleExamples = `try "archive newsletters unless they're from the climbing club", "anything from my landlord is important", "emails from @github.com are notifications" or "mark receipts as not important"`

func ruleErr(text, why string) error {
	return fmt.Errorf("%w: %q (%s); %s", ErrRule, text, why, ruleExamples)
}

var (
	ruleUnless   = regexp.MustCompile(`^(.*?),?\s+(?:unless|except(?:\s+for|\s+when|\s+if)?|but\s+not)\s+(.+)$`)
	unlessFromRe = regexp.MustCompile(`^(?:(?:they|they're|they are|it|it's|it is|those|ones|the ones|the ones that are|those that are|if|when)\s+)*(?:(?:are|is|come|comes|were|sent)\s+)?from\s+(.+)$`)
	ruleArchive  = []*regexp.Regexp{
		regexp.MustCompile(`^(?:archive|skip the inbox for)\s+(.+)$`),
		regexp.MustCompile(`^move\s+(.+?)\s+to\s+(?:the\s+)?archive$`),
		regexp.MustCompile(`^(.+?)\s+(?:should be|can be|get|gets|are|is)\s+(?:automatically\s+)?archived$`),
	}
	ruleMark = []*regexp.Regexp{
		regexp.MustCompile(`^(?:mark|flag|treat|file|label|put|categori[sz]e|count|consider)\s+(.+)\s+as\s+(.+)$`),
		regexp.MustCompile(`^(?:mark|flag|treat|file|label|put|categori[sz]e|count|consider)\s+(.+?)\s+(?:under|in|into)\s+(.+)$`),
	}
	ruleIs     = regexp.MustCompile(`^(.+?)\s+(?:is|are|should be|counts as|count as|goes to|go to|belong in|belongs in)\s+(?:always\s+)?(.+)$`)
	selectorRe = regexp.MustCompile(`^(?:(?:all|any|every)\s+)?(?:(?:the|my)\s+)?(anything|everything|e-?mails?|mails?|messages?|newsletters?|mailing lists?|promotions?|receipts?|orders?|invoices?|notifications?|alerts?|spam|junk|fyi)\b\s*(.*)$`)
	possessive = regexp.MustCompile(`^(.+?)'s?\s+(?:e-?mails?|mails?|messages?)\s*(.*)$`)
	condRe     = regexp.MustCompile(`^(from|about|mentioning|containing|that mentions?|that contains?|with|whose subject (?:contains|mentions|has|is))\s+(.+?)(\s+(?:from|about|mentioning|containing|that mentions?|that contains?|with|whose subject)\s+.*)?$`)
	valueSep   = regexp.MustCompile(`\s*,\s*(?:or\s+)?|\s+or\s+`)
	inSubject  = regexp.MustCompile(`^(?:the\s+)?(?:words?\s+)?(.+?)\s+in\s+(?:the|its)\s+subject$|^(?:the\s+)?subject\s+(.+)$`)
)

// categoryWords maps what people call a kind of mail to triage's category.
var categoryWords = map[string]Category{
	"newsletter": Newsletter, "newsletters": Newsletter, "mailing list": Newsletter, "mailing lists": Newsletter,
	"promotion": Newsletter, "promotions": Newsletter, "list mail": Newsletter,
	"receipt": Receipt, "receipts": Receipt, "order": Receipt, "orders": Receipt, "invoice": Receipt, "invoices": Receipt,
	"notification": Notification, "notifications": Notification, "alert": Notification, "alerts": Notification,
	"spam": Spam, "junk": Spam, "fyi": FYI,
	"needs reply": NeedsReply, "needs a reply": NeedsReply, "need a reply": NeedsReply, "needing a reply": NeedsReply, "to answer": NeedsReply,
	"waiting": Waiting, "waiting for an answer": Waiting,
}

// ParseRule understands a rule in plain words. Its Summary says the rule
// back as os1 will apply it; what it cannot read is an error wrapping
// ErrRule that quotes the rule and shows phrasings it knows.
func ParseRule(text string) (RuleSpec, error) {
	s := normRule(text)
	if s == "" {
		return RuleSpec{}, ruleErr(text, "it is empty")
	}
	if len(s) > 500 {
		return RuleSpec{}, ruleErr(clipRunesTri(text, 60), "it is too long; write one rule at a time")
	}
	var spec RuleSpec
	if m := ruleUnless.FindStringSubmatch(s); m != nil {
		u := unlessFromRe.FindStringSubmatch(m[2])
		if u == nil {
			return RuleSpec{}, ruleErr(text, "I can only make exceptions for senders, as in \"unless they're from …\"")
		}
		spec.UnlessFrom = splitValues(u[1])
		s = m[1]
	}
	var sel, outcome string
	switch {
	case firstMatch(ruleArchive, s) != nil:
		sel, outcome = firstMatch(ruleArchive, s)[1], "archived"
	case firstMatch(ruleMark, s) != nil:
		m := firstMatch(ruleMark, s)
		sel, outcome = m[1], m[2]
	case ruleIs.MatchString(s):
		m := ruleIs.FindStringSubmatch(s)
		sel, outcome = m[1], m[2]
	default:
		return RuleSpec{}, ruleErr(text, "I could not tell what to do: archive, mark as important or not, or file as a kind of mail")
	}
	if err := parseOutcome(outcome, &spec); err != nil {
		return RuleSpec{}, ruleErr(text, err.Error())
	}
	if err := parseSelector(sel, &spec); err != nil {
		return RuleSpec{}, ruleErr(text, err.Error())
	}
	if len(spec.From)+len(spec.Subject)+len(spec.Words)+len(spec.Categories) == 0 {
		return RuleSpec{}, ruleErr(text, "it would touch all mail; say whose mail, which words or which kind")
	}
	spec.Summary = DescribeRule(spec)
	return spec, nil
}

func firstMatch(res []*regexp.Regexp, s string) []string {
	for _, re := range res {
		if m := re.FindStringSubmatch(s); m != nil {
			return m
		}
	}
	return nil
}

func normRule(s string) string {
	s = strings.NewReplacer("’", "'", "‘", "'", "“", `"`, "”", `"`).Replace(strings.ToLower(s))
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimRight(s, ".!;: ")
	for _, p := range []string{"please ", "always ", "i want you to ", "can you ", "os1, ", "from now on, ", "from now on "} {
		s = strings.TrimPrefix(s, p)
	}
	return strings.TrimSpace(s)
}

func parseOutcome(o string, spec *RuleSpec) error {
	o = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(o, "always "), "automatically "))
	switch o {
	case "archived", "archive", "the archive", "archive folder":
		spec.Archive = true
		return nil
	case "important", "very important", "urgent", "a priority", "high priority", "priority", "vip":
		spec.Important = new(true)
		return nil
	case "not important", "unimportant", "low priority", "not urgent", "never important", "not a priority":
		spec.Important = new(false)
		return nil
	}
	for _, art := range []string{"", "a ", "an ", "the "} {
		if c, ok := categoryWords[strings.TrimPrefix(o, art)]; ok && strings.HasPrefix(o, art) {
			spec.Category = c
			return nil
		}
	}
	return fmt.Errorf("I don't know what %q should do", o)
}

// parseSelector reads which mail a rule is about: a kind of mail or "mail",
// then from, about, mentioning and subject conditions.
func parseSelector(s string, spec *RuleSpec) error {
	s = strings.TrimSpace(s)
	rest := ""
	if m := selectorRe.FindStringSubmatch(s); m != nil {
		if c, ok := categoryWords[m[1]]; ok {
			spec.Categories = append(spec.Categories, c)
		}
		rest = m[2]
	} else if m := possessive.FindStringSubmatch(s); m != nil && !strings.Contains(m[1], " from ") {
		spec.From = append(spec.From, splitValues(m[1])...)
		rest = m[2]
	} else if strings.HasPrefix(s, "from ") || strings.HasPrefix(s, "about ") || strings.HasPrefix(s, "with ") {
		rest = s
	} else {
		return fmt.Errorf("I could not tell which mail %q means", s)
	}
	for rest = strings.TrimSpace(rest); rest != ""; {
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "that are "), "which are ")
		m := condRe.FindStringSubmatch(rest)
		if m == nil {
			return fmt.Errorf("I could not read %q", rest)
		}
		val := m[2]
		switch {
		case m[1] == "from":
			spec.From = append(spec.From, splitValues(val)...)
		case m[1] == "with":
			sm := inSubject.FindStringSubmatch(val)
			if sm == nil {
				return fmt.Errorf("I could not read \"with %s\"; try \"with … in the subject\"", val)
			}
			spec.Subject = append(spec.Subject, splitValues(sm[1]+sm[2])...)
		case strings.HasPrefix(m[1], "whose subject"):
			spec.Subject = append(spec.Subject, splitValues(val)...)
		default: // about, mentioning, containing
			spec.Words = append(spec.Words, splitValues(val)...)
		}
		rest = strings.TrimSpace(m[3])
	}
	return nil
}

// splitValues splits "a, b or c" and trims quotes and "the".
func splitValues(s string) []string {
	var out []string
	for _, v := range valueSep.Split(s, -1) {
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		v = strings.TrimPrefix(v, "the ")
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// DescribeRule says a rule back in words: "Archive newsletters, unless they
// are from climbing club."
func DescribeRule(spec RuleSpec) string {
	var sel strings.Builder
	switch len(spec.Categories) {
	case 0:
		sel.WriteString("mail")
	default:
		var names []string
		for _, c := range spec.Categories {
			names = append(names, categoryNoun(c))
		}
		sel.WriteString(strings.Join(names, " and "))
	}
	if len(spec.From) > 0 {
		sel.WriteString(" from " + joinOr(spec.From))
	}
	if len(spec.Words) > 0 {
		sel.WriteString(" mentioning " + joinOr(spec.Words))
	}
	if len(spec.Subject) > 0 {
		sel.WriteString(" with " + joinOr(spec.Subject) + " in the subject")
	}
	var acts []string
	if spec.Category != "" {
		acts = append(acts, "file "+sel.String()+" as "+categoryNoun(spec.Category))
	}
	if spec.Important != nil {
		what := sel.String()
		if len(acts) > 0 {
			what = "them"
		}
		if *spec.Important {
			acts = append(acts, "mark "+what+" as important")
		} else {
			acts = append(acts, "mark "+what+" as not important")
		}
	}
	if spec.Archive {
		if len(acts) > 0 {
			acts = append(acts, "archive them")
		} else {
			acts = append(acts, "archive "+sel.String())
		}
	}
	out := strings.Join(acts, " and ")
	if len(spec.UnlessFrom) > 0 {
		out += ", unless they are from " + joinOr(spec.UnlessFrom)
	}
	if out == "" {
		return ""
	}
	return strings.ToUpper(out[:1]) + out[1:] + "."
}

func joinOr(vs []string) string { return strings.Join(vs, " or ") }

func categoryNoun(c Category) string {
	switch c {
	case NeedsReply:
		return "mail that needs a reply"
	case Waiting:
		return "mail waiting for an answer"
	case FYI:
		return "FYI"
	case Spam:
		return "spam"
	}
	return string(c) + "s"
}

// ResolveRule makes "my landlord" in a rule's senders also match the
// addresses of the person memory knows by that relation or name.
func ResolveRule(spec RuleSpec, people []Person) RuleSpec {
	resolve := func(terms []string) []string {
		out := slices.Clone(terms)
		for _, term := range terms {
			who := strings.TrimPrefix(term, "my ")
			for _, p := range people {
				if strings.EqualFold(p.Relation, who) || strings.EqualFold(p.Name, who) {
					for _, e := range p.Emails {
						if !slices.Contains(out, e) {
							out = append(out, e)
						}
					}
				}
			}
		}
		return out
	}
	spec.From = resolve(spec.From)
	spec.UnlessFrom = resolve(spec.UnlessFrom)
	return spec
}

// fromMatches reports whether a sender term ("climbing club",
// "@github.com", "brown@lettings.example", "Paul") matches the message's
// sender or list.
func fromMatches(term string, m Message) bool {
	term = strings.ToLower(strings.TrimSpace(term))
	if term == "" {
		return false
	}
	email := normAddr(m.From.Email)
	if strings.Contains(term, "@") {
		if strings.HasPrefix(term, "@") {
			return strings.HasSuffix(email, term) || strings.HasSuffix(email, "."+term[1:])
		}
		return email == term
	}
	if strings.HasPrefix(term, "my ") {
		return false // a relation os1 could not resolve to an address
	}
	hay := strings.ToLower(m.From.Name + " " + m.ListID + " " + email)
	if containsWord(hay, term) { // "paul" matches Paul Smith, not pauline@
		return true
	}
	// "climbing club" also matches news@climbingclub.example.
	squashed := strings.NewReplacer(" ", "", "-", "", "'", "").Replace(term)
	return squashed != term && len(squashed) >= 4 && (strings.Contains(email, squashed) || strings.Contains(strings.ToLower(m.ListID), squashed))
}

// containsWord reports whether w occurs in s on word boundaries.
func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		a, b := i+j, i+j+len(w)
		if (a == 0 || !isWordByte(s[a-1])) && (b == len(s) || !isWordByte(s[b])) {
			return true
		}
		i = a + 1
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80
}

// RuleMatches reports whether spec applies to m as triage t placed it.
func RuleMatches(spec RuleSpec, m Message, t Triage) bool {
	anyOf := func(terms []string, f func(string) bool) bool {
		return len(terms) == 0 || slices.ContainsFunc(terms, f)
	}
	subject := strings.ToLower(m.Subject)
	all := subject + "\n" + strings.ToLower(m.Text)
	if !anyOf(spec.From, func(s string) bool { return fromMatches(s, m) }) ||
		!anyOf(spec.Subject, func(s string) bool { return containsWord(subject, strings.ToLower(s)) }) ||
		!anyOf(spec.Words, func(s string) bool { return containsWord(all, strings.ToLower(s)) }) ||
		len(spec.Categories) > 0 && !slices.Contains(spec.Categories, t.Category) {
		return false
	}
	return !slices.ContainsFunc(spec.UnlessFrom, func(s string) bool { return fromMatches(s, m) })
}

// ApplyRules lets the user's enabled rules overrule the ranker's triage t
// of m. Rules that file mail as a kind run first, so the others see the
// user's kind ("emails from @github.com are notifications" keeps GitHub out
// of "archive newsletters"); otherwise rules run in order, and a field one
// rule set is not changed by a later one. The result says which rule
// decided (By "rule:<id>") and names the rules in Reason.
func ApplyRules(rules []Rule, m Message, t Triage) Triage {
	in := t
	ordered := slices.Clone(rules)
	slices.SortStableFunc(ordered, func(a, b Rule) int {
		files := func(r Rule) int {
			if r.Understood.Category != "" {
				return 0
			}
			return 1
		}
		return cmp.Compare(files(a), files(b))
	})
	var matched []Rule
	setCat, setImp := false, false
	for _, r := range ordered {
		if !r.Enabled || !RuleMatches(r.Understood, m, t) {
			continue
		}
		spec := r.Understood
		changed := false
		if spec.Category != "" && !setCat {
			t.Category, setCat, changed = spec.Category, true, true
		}
		if spec.Important != nil && !setImp {
			if *spec.Important {
				t.Importance = max(t.Importance, 0.9)
			} else {
				t.Importance = min(t.Importance, 0.1)
			}
			setImp, changed = true, true
		}
		if spec.Archive && !t.Archive {
			t.Archive, changed = true, true
		}
		if changed {
			matched = append(matched, r)
		}
	}
	if len(matched) == 0 {
		return t
	}
	t.By = "rule:" + matched[0].ID
	var names []string
	for _, r := range matched {
		names = append(names, fmt.Sprintf("your rule %q", clipRunesTri(cleanLine(r.Text), 80)))
	}
	t.Reason = strings.Join(names, " and ")
	if in.Reason != "" {
		t.Reason += "; " + in.Reason
	}
	return t
}

// Hit is one message a rule would touch, and how.
type Hit struct {
	MessageID string
	From      Address
	Subject   string
	RuleID    string
	Before    Triage
	After     Triage
	// Change says what the rule does to it: "newsletter → archived".
	Change string
}

// DryRun shows which of msgs (recent mail, as triaged) the rules would
// touch and how, without changing anything. Rules that are off are tried
// too: a dry run is how the user checks a rule before turning it on.
func DryRun(rules []Rule, msgs []Message) []Hit {
	var hits []Hit
	for _, r := range rules {
		r.Enabled = true
		for _, m := range msgs {
			if !RuleMatches(r.Understood, m, m.Triage) {
				continue
			}
			after := ApplyRules([]Rule{r}, m, m.Triage)
			hits = append(hits, Hit{MessageID: m.ID, From: m.From, Subject: m.Subject, RuleID: r.ID,
				Before: m.Triage, After: after, Change: describeChange(m.Triage, after)})
		}
	}
	return hits
}

func describeChange(b, a Triage) string {
	var parts []string
	if a.Category != b.Category {
		parts = append(parts, fmt.Sprintf("%s → %s", cmp.Or(string(b.Category), "untriaged"), a.Category))
	}
	if a.Importance != b.Importance {
		parts = append(parts, fmt.Sprintf("importance %.2f → %.2f", b.Importance, a.Importance))
	}
	if a.Archive && !b.Archive {
		parts = append(parts, "archived")
	}
	if len(parts) == 0 {
		return "no change: it already is so"
	}
	return strings.Join(parts, "; ")
}
