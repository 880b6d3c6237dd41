package llm

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// A streamed reply is one small JSON object per token, and encoding/json
// spends most of the time of reading a stream on them (a validating pass,
// then reflection, a few allocations per object). The decoders here read the
// shapes that servers send token by token, field by field, into reused
// structs. They are a fast path, not a second meaning: each either decodes a
// chunk exactly as json.Unmarshal would into the same struct, or says no
// (ok false) and the caller uses json.Unmarshal. They say no to everything
// outside the plain case: a known field spelled in another case, a field
// twice, a value of an unexpected type, a number that is not a small
// integer, a string with invalid UTF-8, deep nesting, invalid JSON.

// jsonScan walks one JSON text.
type jsonScan struct {
	b     []byte
	i     int
	depth int
}

// maxFastDepth bounds the nesting the fast path skips through.
const maxFastDepth = 64

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the next byte after white space, 0 at the end.
func (s *jsonScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// consume skips white space and c, reporting whether c was there.
func (s *jsonScan) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *jsonScan) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// literal consumes lit ("null", "true", "false").
func (s *jsonScan) literal(lit string) bool {
	s.ws()
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// null consumes a null if one is next.
func (s *jsonScan) null() bool {
	return s.peek() == 'n' && s.literal("null")
}

// rawString consumes a string and returns it with its quotes, and whether it
// has escapes. ok is false for a string json.Unmarshal would change (invalid
// UTF-8) or reject.
func (s *jsonScan) rawString() (raw []byte, escaped, ok bool) {
	if s.peek() != '"' {
		return nil, false, false
	}
	start := s.i
	s.i++
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			raw = s.b[start:s.i]
			if !ascii && !utf8.Valid(raw) {
				return nil, false, false
			}
			return raw, escaped, true
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, false, false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				s.i += 6
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			s.i++
		}
	}
	return nil, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// str consumes a string value, or null (which leaves *dst as it was, as
// json.Unmarshal does).
func (s *jsonScan) str(dst *string) bool {
	v, ok := s.strOr(*dst)
	*dst = v
	return ok
}

// strOr is str that returns the value: old for null, and old again (no
// copy) for a string equal to it.
func (s *jsonScan) strOr(old string) (string, bool) {
	if s.null() {
		return old, true
	}
	raw, escaped, ok := s.rawString()
	if !ok {
		return old, false
	}
	if escaped {
		// Rare enough per token (a newline, a quote) to leave to encoding/json.
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return old, false
		}
		return v, true
	}
	if v := raw[1 : len(raw)-1]; old != string(v) {
		return string(v), true
	}
	return old, true
}

// word is str for a field whose values are mostly from known, which then
// cost no copy.
func (s *jsonScan) word(dst *string, known []string) bool {
	start := s.i
	if raw, escaped, ok := s.rawString(); ok && !escaped {
		for _, k := range known {
			if string(raw[1:len(raw)-1]) == k {
				*dst = k
				return true
			}
		}
	}
	s.i = start
	return s.str(dst)
}

// key consumes an object key and its colon. A key with escapes is left to
// json.Unmarshal.
func (s *jsonScan) key() ([]byte, bool) {
	raw, escaped, ok := s.rawString()
	if !ok || escaped || !s.consume(':') {
		return nil, false
	}
	return raw[1 : len(raw)-1], true
}

// integer consumes a number that fits an int without a fraction or an
// exponent, or null (leaving *dst).
func (s *jsonScan) integer(dst *int) bool {
	if s.null() {
		return true
	}
	s.ws()
	i, neg := s.i, false
	if i < len(s.b) && s.b[i] == '-' {
		neg, i = true, i+1
	}
	start, n := i, 0
	for i < len(s.b) && s.b[i] >= '0' && s.b[i] <= '9' {
		n = n*10 + int(s.b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 15 || (digits > 1 && s.b[start] == '0') {
		return false
	}
	if i < len(s.b) {
		switch s.b[i] {
		case '.', 'e', 'E':
			return false
		}
	}
	if neg {
		n = -n
	}
	s.i, *dst = i, n
	return true
}

// skip consumes any valid JSON value.
func (s *jsonScan) skip() bool {
	switch c := s.peek(); {
	case c == '"':
		_, _, ok := s.rawString()
		return ok
	case c == '{':
		return s.object(func(k []byte) bool { return s.skip() })
	case c == '[':
		return s.array(s.skip)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

// number consumes a JSON number.
func (s *jsonScan) number() bool {
	b, i := s.b, s.i
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	s.i = i
	return true
}

// object consumes an object, calling field for each key with the scanner on
// its value; field must consume the value.
func (s *jsonScan) object(field func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	defer func() { s.depth-- }()
	if s.consume('}') {
		return true
	}
	for {
		k, ok := s.key()
		if !ok || !field(k) {
			return false
		}
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

// array consumes an array, calling elem with the scanner on each element.
func (s *jsonScan) array(elem func() bool) bool {
	if !s.consume('[') {
		return false
	}
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	defer func() { s.depth-- }()
	if s.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.consume(']') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

// fields matches keys to the fields of one object: exact names only, each
// once. A key that json.Unmarshal would match case-insensitively is refused.
type fields struct {
	names []string
	seen  uint32
}

// match returns the index of key in names, -1 for an unknown key to skip,
// or ok false.
func (f *fields) match(key []byte) (int, bool) {
	for i, n := range f.names {
		if string(key) == n {
			if f.seen&(1<<i) != 0 {
				return 0, false // a field twice: json.Unmarshal's rules for that are its own
			}
			f.seen |= 1 << i
			return i, true
		}
	}
	for _, n := range f.names {
		if bytes.EqualFold(key, []byte(n)) {
			return 0, false
		}
	}
	return -1, true
}

// The fields of OpenAI's stream chunks that oaChunk holds, in its order.
var (
	oaChunkKeys    = []string{"model", "choices", "usage", "error"}
	oaChoiceKeys   = []string{"index", "delta", "finish_reason"}
	oaDeltaKeys    = []string{"content", "reasoning_content", "reasoning", "tool_calls"}
	oaToolCallKeys = []string{"index", "id", "function"}
	oaFunctionKeys = []string{"name", "arguments"}
	oaUsageKeys    = []string{"prompt_tokens", "completion_tokens"}
)

// oaChunkDecoder decodes OpenAI stream chunks into one reused oaChunk.
type oaChunkDecoder struct {
	ch    oaChunk
	model string // the last model named, kept while the chunks name the same
}

// decode returns data decoded as json.Unmarshal would decode it into a zero
// oaChunk, valid until the next call; nil: data is for json.Unmarshal.
func (d *oaChunkDecoder) decode(data []byte) *oaChunk {
	ch := &d.ch
	choices := ch.Choices[:0]
	*ch = oaChunk{}
	s := &jsonScan{b: data}
	f := fields{names: oaChunkKeys}
	ok := s.object(func(k []byte) bool {
		i, ok := f.match(k)
		switch {
		case !ok:
			return false
		case i == 0:
			if s.null() {
				return true
			}
			if s.null() {
				return true // the zero chunk's "", not the last model
			}
			m, ok := s.strOr(d.model)
			d.model, ch.Model = m, m
			return ok
		case i == 1:
			if s.null() {
				return true
			}
			ok := s.array(func() bool {
				if s.peek() != '{' {
					return false
				}
				var calls []oaToolCallDelta
				if n := len(choices); n < cap(choices) {
					calls = choices[:n+1][n].Delta.ToolCalls[:0]
				}
				choices = append(choices, oaChoice{})
				return decodeOAChoice(s, &choices[len(choices)-1], calls)
			})
			ch.Choices = choices
			if choices == nil {
				ch.Choices = []oaChoice{}
			}
			return ok
		case i == 2:
			if s.null() {
				return true
			}
			ch.Usage = &oaUsage{}
			uf := fields{names: oaUsageKeys}
			return s.object(func(k []byte) bool {
				switch i, ok := uf.match(k); {
				case !ok:
					return false
				case i == 0:
					return s.integer(&ch.Usage.PromptTokens)
				case i == 1:
					return s.integer(&ch.Usage.CompletionTokens)
				}
				return s.skip()
			})
		case i == 3:
			return s.null() // an error is for json.Unmarshal
		}
		return s.skip()
	})
	if !ok || !s.end() {
		ch.Choices = choices[:0]
		return nil
	}
	return ch
}

// decodeOAChoice decodes one element of choices into the zero c, reusing
// calls' array for its tool calls.
func decodeOAChoice(s *jsonScan, c *oaChoice, calls []oaToolCallDelta) bool {
	f := fields{names: oaChoiceKeys}
	return s.object(func(k []byte) bool {
		switch i, ok := f.match(k); {
		case !ok:
			return false
		case i == 0:
			return s.integer(&c.Index)
		case i == 1:
			if s.null() {
				return true
			}
			df := fields{names: oaDeltaKeys}
			return s.object(func(k []byte) bool {
				switch i, ok := df.match(k); {
				case !ok:
					return false
				case i == 0:
					return s.str(&c.Delta.Content)
				case i == 1:
					return s.str(&c.Delta.ReasoningContent)
				case i == 2:
					return s.str(&c.Delta.Reasoning)
				case i == 3:
					if s.null() {
						return true
					}
					ok := s.array(func() bool {
						if s.peek() != '{' {
							return false
						}
						calls = append(calls, oaToolCallDelta{})
						return decodeOAToolCall(s, &calls[len(calls)-1])
					})
					c.Delta.ToolCalls = calls
					if calls == nil {
						c.Delta.ToolCalls = []oaToolCallDelta{}
					}
					return ok
				}
				return s.skip()
			})
		case i == 2:
			if s.null() {
				return true
			}
			var r string
			if !s.str(&r) {
				return false
			}
			c.FinishReason = &r
			return true
		}
		return s.skip()
	})
}

// decodeOAToolCall decodes one element of tool_calls into the zero tc.
func decodeOAToolCall(s *jsonScan, tc *oaToolCallDelta) bool {
	f := fields{names: oaToolCallKeys}
	return s.object(func(k []byte) bool {
		switch i, ok := f.match(k); {
		case !ok:
			return false
		case i == 0:
			return s.integer(&tc.Index)
		case i == 1:
			return s.str(&tc.ID)
		case i == 2:
			if s.null() {
				return true
			}
			ff := fields{names: oaFunctionKeys}
			return s.object(func(k []byte) bool {
				switch i, ok := ff.match(k); {
				case !ok:
					return false
				case i == 0:
					return s.str(&tc.Function.Name)
				case i == 1:
					return s.str(&tc.Function.Arguments)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
}

// The fields of Anthropic's stream events that anEvent holds, in its order,
// and the words that come with every token.
var (
	anEventKeys = []string{"type", "index", "message", "content_block", "delta", "usage", "error"}
	anDeltaKeys = []string{"type", "text", "thinking", "partial_json", "stop_reason"}
	anUsageKeys = []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}
	anTypes     = []string{"content_block_delta", "text_delta", "thinking_delta", "input_json_delta", "signature_delta",
		"ping", "content_block_start", "content_block_stop", "message_delta", "message_stop"}
)

// anEventDecoder decodes Anthropic stream events into one reused anEvent.
// Events with a message, a content block or an error (a few per reply) are
// left to json.Unmarshal.
type anEventDecoder struct {
	ev    anEvent
	delta anDelta
}

// decode returns data decoded as json.Unmarshal would decode it into a zero
// anEvent, valid until the next call; nil: data is for json.Unmarshal.
func (d *anEventDecoder) decode(data []byte) *anEvent {
	e := &d.ev
	*e = anEvent{}
	s := &jsonScan{b: data}
	f := fields{names: anEventKeys}
	ok := s.object(func(k []byte) bool {
		switch i, ok := f.match(k); {
		case !ok:
			return false
		case i == 0:
			return s.word(&e.Type, anTypes)
		case i == 1:
			return s.integer(&e.Index)
		case i == 2, i == 3, i == 6:
			return s.null()
		case i == 4:
			if s.null() {
				return true
			}
			d.delta = anDelta{}
			e.Delta = &d.delta
			df := fields{names: anDeltaKeys}
			return s.object(func(k []byte) bool {
				switch i, ok := df.match(k); {
				case !ok:
					return false
				case i == 0:
					return s.word(&d.delta.Type, anTypes)
				case i == 1:
					return s.str(&d.delta.Text)
				case i == 2:
					return s.str(&d.delta.Thinking)
				case i == 3:
					return s.str(&d.delta.PartialJSON)
				case i == 4:
					return s.str(&d.delta.StopReason)
				}
				return s.skip()
			})
		case i == 5:
			if s.null() {
				return true
			}
			e.Usage = &anUsage{}
			uf := fields{names: anUsageKeys}
			return s.object(func(k []byte) bool {
				switch i, ok := uf.match(k); {
				case !ok:
					return false
				case i == 0:
					return s.integer(&e.Usage.InputTokens)
				case i == 1:
					return s.integer(&e.Usage.OutputTokens)
				case i == 2:
					return s.integer(&e.Usage.CacheCreationInputTokens)
				case i == 3:
					return s.integer(&e.Usage.CacheReadInputTokens)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if !ok || !s.end() {
		return nil
	}
	return e
}
