package httpretry

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MaxErrorBody bounds how much of an error answer is read.
const MaxErrorBody = 64 << 10

// APIError is an HTTP answer outside 2xx, with what the server said about
// it. OpenAI-style bodies ({"error":{"message","type","code","param"}})
// fill every field; other shapes fill Message only.
type APIError struct {
	StatusCode int
	// Message is the server's own explanation on one line, or "".
	Message string
	// Type, Code and Param are OpenAI's error fields (Code may have been a
	// number in the body), or "".
	Type, Code, Param string
	// RetryAfter is how long the server asked to wait, when HasRetryAfter.
	RetryAfter    time.Duration
	HasRetryAfter bool
}

// Error reads "HTTP 429 Too Many Requests: slow down (rate_limit_exceeded)".
func (e *APIError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	if c := e.Code; c != "" || e.Type != "" {
		if c == "" {
			c = e.Type
		}
		s += " (" + c + ")"
	}
	return s
}

// Retryable reports whether the answer is worth repeating (RetryableStatus).
func (e *APIError) Retryable() bool { return RetryableStatus(e.StatusCode) }

// DecodeError reads a non-2xx response (up to MaxErrorBody of its body,
// which it does not close) into an *APIError; now dates Retry-After.
func DecodeError(resp *http.Response, now time.Time) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	return ParseError(resp.StatusCode, resp.Header, body, now)
}

// ParseError is DecodeError for an answer already read.
func ParseError(status int, h http.Header, body []byte, now time.Time) *APIError {
	e := &APIError{StatusCode: status, Message: Message(body)}
	e.RetryAfter, e.HasRetryAfter = RetryAfter(h, now)
	var v struct {
		Error struct {
			Type  string          `json:"type"`
			Code  json.RawMessage `json:"code"`
			Param string          `json:"param"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Type, e.Param = v.Error.Type, v.Error.Param
		var s string
		switch {
		case json.Unmarshal(v.Error.Code, &s) == nil:
			e.Code = s
		case len(v.Error.Code) > 0 && string(v.Error.Code) != "null":
			e.Code = string(v.Error.Code)
		}
	}
	return e
}

// Message digs the human explanation out of an error body. It knows the
// OpenAI shape {"error":{"message"}}, Anthropic's
// {"type":"error","error":{"type","message"}}, Ollama's {"error":"…"},
// FastAPI's {"detail":…}, {"message":"…"} and short plain text. An HTML
// error page says nothing useful in one line and gives "".
func Message(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &inner) == nil && inner.Message != "":
			return OneLine(inner.Message)
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return OneLine(s)
		case v.Message != "":
			return OneLine(v.Message)
		case json.Unmarshal(v.Detail, &s) == nil && s != "":
			return OneLine(s)
		case len(v.Detail) > 0 && string(v.Detail) != "null":
			return OneLine(string(v.Detail))
		}
		return ""
	}
	text := strings.TrimSpace(string(body))
	if text == "" || strings.HasPrefix(text, "<") {
		return ""
	}
	return OneLine(text)
}

// OneLine shortens a server's text to one readable line of at most 300
// characters.
func OneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}
