package llm

import "strings"

const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

// thinkSplitter separates the <think>…</think> block that reasoning models
// served without a reasoning parser (llama.cpp with --reasoning-format none,
// some vLLM and LM Studio setups) put at the start of content. Only a block
// that opens the reply counts: "<think>" later in an answer is the answer's
// own text. Tags may be cut anywhere across deltas, so text that could be the
// start of a tag is held until the next delta (or flush) decides.
//
// Some chat templates pre-fill "<think>\n" in the prompt, so the model's
// content starts inside the thinking and only "</think>" shows. prefill
// says what is known of the model: prefillNo (the zero value) treats such
// text as answer; prefillYes starts inside the thinking; prefillMaybe (a
// model not seen yet) holds the start of the reply, up to maxPrefillHold
// bytes, until a "</think>" on a line of its own says it was thinking or
// the reply ends. learned says what this reply showed.
type thinkSplitter struct {
	state   int // thinkStart, thinkInside, thinkAnswer, thinkAfter or thinkMaybe
	held    string
	prefill thinkPrefill
	learned thinkPrefill // what this reply showed, when decided
	decided bool
	// sawBareClose: a "</think>" on a line of its own in answer text
	// (prefillNo), which says the model's template pre-fills the tag.
	sawBareClose bool
	tail         string // the end of the answer so far, for a tag cut across deltas
}

// decide records what a reply of a model not seen yet showed.
func (s *thinkSplitter) decide(p thinkPrefill) {
	if s.prefill == prefillMaybe && !s.decided {
		s.learned, s.decided = p, true
	}
}

// thinkPrefill is whether a model's template pre-fills the opening tag.
type thinkPrefill int

const (
	prefillNo thinkPrefill = iota
	prefillMaybe
	prefillYes
)

// maxPrefillHold bounds the text held while it is not yet known whether a
// reply starts inside pre-filled thinking: past it, the text is answer.
const maxPrefillHold = 32 << 10

const (
	thinkStart  = iota // nothing but white space seen yet
	thinkInside        // inside <think>, before </think>
	thinkAnswer        // the rest is answer text
	thinkAfter         // just after </think>: white space before the answer is dropped
	thinkMaybe         // no opening tag: thinking if a bare </think> follows (prefillMaybe)
)

// push reads one content delta and emits what it can decide.
func (s *thinkSplitter) push(delta string, emit func(Event) error) error {
	buf := s.held + delta
	s.held = ""
	for buf != "" {
		switch s.state {
		case thinkStart:
			rest := strings.TrimLeft(buf, " \t\r\n")
			switch {
			case strings.HasPrefix(rest, thinkOpen):
				s.state, buf = thinkInside, rest[len(thinkOpen):]
				s.decide(prefillNo)
			case strings.HasPrefix(thinkOpen, rest): // white space or a cut tag: wait
				s.held = buf
				return nil
			case s.prefill == prefillYes:
				s.state = thinkInside
			case s.prefill == prefillMaybe:
				s.state = thinkMaybe
			default:
				s.state = thinkAnswer
			}
		case thinkMaybe:
			if i := bareClose(buf); i >= 0 {
				s.decide(prefillYes)
				if err := emitNonEmpty(EventReasoning, buf[:i], emit); err != nil {
					return err
				}
				s.state, buf = thinkAfter, buf[i+len(thinkClose):]
				continue
			}
			if len(buf) > maxPrefillHold {
				s.state = thinkAnswer
				s.decide(prefillNo)
				continue
			}
			s.held = buf
			return nil
		case thinkInside:
			if i := strings.Index(buf, thinkClose); i >= 0 {
				if err := emitNonEmpty(EventReasoning, buf[:i], emit); err != nil {
					return err
				}
				s.state, buf = thinkAfter, buf[i+len(thinkClose):]
				continue
			}
			keep := partialSuffix(buf, thinkClose)
			s.held = buf[len(buf)-keep:]
			return emitNonEmpty(EventReasoning, buf[:len(buf)-keep], emit)
		case thinkAfter:
			buf = strings.TrimLeft(buf, " \t\r\n")
			if buf != "" {
				s.state = thinkAnswer
			}
		case thinkAnswer:
			if !s.sawBareClose && s.prefill == prefillNo && bareClose(s.tail+buf) >= 0 {
				s.sawBareClose = true
			}
			s.tail = buf[max(len(buf)-len(thinkClose), 0):]
			return emitNonEmpty(EventText, buf, emit)
		}
	}
	return nil
}

// flush emits what is held at the end of the reply: a cut tag that never
// completed is text of the kind around it.
func (s *thinkSplitter) flush(emit func(Event) error) error {
	held := s.held
	s.held = ""
	switch s.state {
	case thinkInside:
		return emitNonEmpty(EventReasoning, held, emit)
	case thinkMaybe:
		s.state = thinkAnswer
		s.decide(prefillNo)
		return emitNonEmpty(EventText, held, emit)
	case thinkStart:
		if strings.TrimSpace(held) == "" {
			return nil // white space alone is no answer
		}
		s.state = thinkAnswer
		return emitNonEmpty(EventText, held, emit)
	}
	return nil
}

// partialSuffix is the length of the longest proper prefix of tag that s
// ends with.
func partialSuffix(s, tag string) int {
	for n := min(len(tag)-1, len(s)); n > 0; n-- {
		if strings.HasSuffix(s, tag[:n]) {
			return n
		}
	}
	return 0
}

func emitNonEmpty(kind EventKind, text string, emit func(Event) error) error {
	if text == "" {
		return nil
	}
	return emit(Event{Kind: kind, Text: text})
}

// bareClose is the index of a "</think>" that starts a line (what a model
// writes after pre-filled thinking), or -1. One inside a sentence is text.
func bareClose(s string) int {
	for from := 0; ; {
		i := strings.Index(s[from:], thinkClose)
		if i < 0 {
			return -1
		}
		i += from
		if before := strings.TrimRight(s[:i], " \t"); before == "" || strings.HasSuffix(before, "\n") {
			return i
		}
		from = i + 1
	}
}
