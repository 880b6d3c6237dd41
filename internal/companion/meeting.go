package companion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// MaxAnswerLen bounds one first-meeting answer.
const MaxAnswerLen = 4000

// SaveMeeting stores first-meeting answers. With finish set it marks the
// meeting done and carries the "sound" answer into the persona's voice.
func (c *Companion) SaveMeeting(ctx context.Context, userID string, answers map[string]string, timezone string, finish bool) (store.Profile, error) {
	p, err := c.store.Profile(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		p, err = store.Profile{UserID: userID, Answers: map[string]string{}}, nil
	}
	if err != nil {
		return p, err
	}
	if p.Answers == nil {
		p.Answers = map[string]string{}
	}
	for k, v := range answers {
		k = strings.TrimSpace(k)
		if k == "" || len(k) > 64 {
			return p, fmt.Errorf("answer key %q must be 1 to 64 characters", k)
		}
		if len(v) > MaxAnswerLen {
			return p, fmt.Errorf("answer %q is %d bytes; the limit is %d", k, len(v), MaxAnswerLen)
		}
		if err := ValidateText(v + "."); err != nil {
			return p, fmt.Errorf("answer %q: %w", k, err)
		}
		p.Answers[k] = strings.TrimSpace(v)
	}
	if timezone != "" {
		if _, err := time.LoadLocation(timezone); err != nil {
			return p, fmt.Errorf("time zone %q is unknown: use an IANA name like Europe/Berlin", timezone)
		}
		p.Timezone = timezone
	}
	now := c.clock.Now()
	p.UpdatedAt = now
	if finish && p.OnboardedAt.IsZero() {
		p.OnboardedAt = now
	}
	if err := c.store.SaveProfile(ctx, p); err != nil {
		return p, err
	}
	if finish {
		per, err := c.store.Persona(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			per, err = store.Persona{UserID: userID}, nil
		}
		if err != nil {
			return p, err
		}
		if per.Voice == "" {
			per.Voice = p.Answers["sound"]
		}
		per.UpdatedAt = now
		if err := c.store.SavePersona(ctx, per); err != nil {
			return p, err
		}
	}
	return p, nil
}

// ChooseName asks the model to pick the companion's own name for this user
// and stores it. Once named, the stored name is returned unless again is set.
// Without a model it fails: a name is never made up here.
func (c *Companion) ChooseName(ctx context.Context, userID string, again bool) (store.Persona, error) {
	prof, err := c.store.Profile(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && prof.OnboardedAt.IsZero()) {
		return store.Persona{}, ErrNotOnboarded
	}
	if err != nil {
		return store.Persona{}, err
	}
	per, err := c.store.Persona(ctx, userID)
	if err != nil {
		return per, err
	}
	if per.Name != "" && !again {
		return per, nil
	}
	user, err := c.store.UserByID(ctx, userID)
	if err != nil {
		return per, err
	}
	prov, err := c.models.Provider(ctx)
	if err != nil {
		return per, err
	}
	var about []string
	for _, q := range questions {
		if a := prof.Answers[q.Key]; a != "" {
			about = append(about, fmt.Sprintf("- %s: %s", q.Label, a))
		}
	}
	prompt := fmt.Sprintf("You are a new AI companion, about to meet %s for the first time. Here is what they told you:\n%s\n\n"+
		"Choose your own first name: one you like, that fits who you are and how they want you to sound. "+
		"Answer with JSON only, like {\"name\": \"…\"}.", displayName(user), strings.Join(about, "\n"))
	if per.Name != "" {
		prompt += fmt.Sprintf(" Your previous name was %q; choose a different one.", per.Name)
	}
	var text strings.Builder
	for ev, err := range prov.Stream(ctx, llm.Request{
		System:    "You choose your own name. Reply with a single JSON object and nothing else.",
		Messages:  []llm.Message{{Role: llm.RoleUser, Content: prompt}},
		MaxTokens: 64,
	}) {
		if err != nil {
			c.observer.Error(string(llm.KindOf(err)))
			return per, fmt.Errorf("ask the model for a name: %w", err)
		}
		if ev.Kind == llm.EventText {
			text.WriteString(ev.Text)
		}
	}
	name, err := parseName(text.String())
	if err != nil {
		return per, err
	}
	now := c.clock.Now()
	per.Name, per.NamedAt, per.UpdatedAt = name, now, now
	if err := c.store.SavePersona(ctx, per); err != nil {
		return per, err
	}
	return per, nil
}

// ErrBadName means the model's answer did not contain a usable name.
var ErrBadName = errors.New("the model did not answer with a usable name")

// parseName takes the name out of the model's answer: JSON {"name": …}
// (possibly inside a code fence or prose), else a bare short line. When
// there is no usable name the error quotes what the model actually said
// (escaped and cut short), so a person can see what went wrong.
func parseName(s string) (string, error) {
	raw := strings.TrimSpace(s)
	candidate := ""
	if i, j := strings.Index(raw, "{"), strings.LastIndex(raw, "}"); i >= 0 && j > i {
		var v struct {
			Name string `json:"name"`
		}
		if json.Unmarshal([]byte(raw[i:j+1]), &v) == nil {
			candidate = v.Name
		}
	}
	if candidate == "" && !strings.Contains(raw, "{") {
		candidate = strings.SplitN(raw, "\n", 2)[0]
	}
	candidate = strings.Trim(strings.TrimSpace(candidate), "\"'.!*` ")
	var err error
	switch {
	case raw == "":
		return "", fmt.Errorf("%w: it answered nothing; try again", ErrBadName)
	case candidate == "":
		err = errors.New("no name in it")
	default:
		err = validName(candidate)
	}
	if err != nil {
		return "", fmt.Errorf("%w: it answered %q (%v); try again", ErrBadName, clip(raw, 80), err)
	}
	return candidate, nil
}

// validName accepts a name: one or two words of letters in one script
// (Latin, Cyrillic, Hangul…; Japanese may mix kana and kanji), joined by
// hyphens or apostrophes, at most 32 characters.
func validName(n string) error {
	r := []rune(n)
	if len(r) == 0 {
		return errors.New("empty")
	}
	if len(r) > 32 {
		return errors.New("longer than 32 characters")
	}
	words := strings.Fields(n)
	if len(words) > 2 {
		return fmt.Errorf("%d words, not one or two", len(words))
	}
	if strings.Join(words, " ") != n {
		return errors.New("odd spacing")
	}
	first := ""
	for _, w := range words {
		if strings.Trim(w, "-'’") != w || strings.Contains(w, "--") {
			return fmt.Errorf("%q starts or ends with a mark", w)
		}
		for _, ch := range w {
			if ch == '-' || ch == '\'' || ch == '’' || unicode.Is(unicode.Mn, ch) {
				continue
			}
			if !unicode.IsLetter(ch) {
				return fmt.Errorf("contains %q", ch)
			}
			sc := scriptOf(ch)
			if first == "" {
				first = sc
			} else if sc != first {
				return fmt.Errorf("mixes %s and %s letters", first, sc)
			}
		}
	}
	return nil
}

// scriptOf names the Unicode script of a letter. Hiragana, Katakana and
// Han count as one: Japanese names mix them.
func scriptOf(ch rune) string {
	for _, name := range []string{"Latin", "Cyrillic", "Greek", "Hangul", "Arabic", "Hebrew", "Devanagari", "Thai"} {
		if unicode.Is(unicode.Scripts[name], ch) {
			return name
		}
	}
	if unicode.In(ch, unicode.Han, unicode.Hiragana, unicode.Katakana) {
		return "Japanese or Chinese"
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, ch) {
			return name
		}
	}
	return "unknown"
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
