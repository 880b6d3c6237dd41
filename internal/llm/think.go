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
type thinkSplitter struct {
	state int // thinkStart, thinkInside or thinkAnswer
	held  string
}

const (
	thinkStart  = iota // nothing but white space seen yet
	thinkInside        // inside <think>, before </think>
	thinkAnswer        // the rest is answer text
	thinkAfter         // just after </think>: white space before the answer is dropped
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
			case strings.HasPrefix(thinkOpen, rest): // white space or a cut tag: wait
				s.held = buf
				return nil
			default:
				s.state = thinkAnswer
			}
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
