package llm

import (
	"errors"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PlainFailure turns a failed model call into a short sentence in plain
// words (what happened and what to do), for the chat, the model status and
// the CLI, and the technical details (the error as the client saw it) for a
// disclosure under it. It never shows Go's or the provider's raw words in
// the sentence. The companion says these sentences, so some are in her
// voice ("I can't reach the model …").
func PlainFailure(err error) (sentence, details string) {
	details = err.Error()
	at := ""
	if host := ModelHost(err); host != "" {
		at = " at " + host
	}
	var le *Error
	errors.As(err, &le)
	switch KindOf(err) {
	case KindConnection:
		if strings.Contains(details, "broke in the middle") || strings.Contains(details, "ended before the reply was complete") {
			sentence = "The connection to the model" + at + " broke before the reply was finished. Try again."
		} else {
			sentence = "I can't reach the model" + at + " — is it running?"
		}
	case KindTimeout:
		sentence = "The model" + at + " took too long to answer. Try again; if it keeps happening it may be overloaded or still loading."
	case KindRateLimited:
		wait := "in a moment"
		if le != nil && le.RetryAfter >= time.Second {
			wait = "in " + le.RetryAfter.Round(time.Second).String()
		}
		sentence = "The model is busy with too many requests. Try again " + wait + "."
	case KindAuth:
		sentence = "The model" + at + " turned down the API key. Check the key in Settings."
	case KindServer:
		sentence = "The model could not answer because its server had a problem. Try again in a moment."
	case KindContextOverflow:
		// What to change belongs in the sentence, not only in the details:
		// a new conversation does not help when the server's context is
		// smaller than what os1 sends.
		size := ""
		if le != nil && le.ContextSize > 0 {
			size = " (" + groupDigits(le.ContextSize) + " tokens)"
		}
		sentence = "This conversation no longer fits the model's context" + size + ". " +
			"Give the model server a larger context (llama-server -c), or set os1's context_tokens to fit it."
	case KindCutOff:
		sentence = "The reply was cut off by the model's token limit. Try again."
	case KindBadRequest:
		sentence = "The model could not take this request. Check the model name and connection in Settings."
	case KindProtocol:
		sentence = "The model's answer could not be read. Check that its URL points at a compatible API."
	default:
		sentence = "The model could not answer. Try again."
	}
	return sentence, details
}

var urlInText = regexp.MustCompile(`https?://[^\s;,)]+`)

// ModelHost finds the host and port of the model server an error is
// about: from the failed request's URL, the refused address, or a URL in
// the error's text ("" when none).
func ModelHost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Host
		}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Addr != nil {
		return oe.Addr.String()
	}
	if m := urlInText.FindString(err.Error()); m != "" {
		if u, perr := url.Parse(m); perr == nil && u.Host != "" {
			return u.Host
		}
	}
	return ""
}

// groupDigits writes n with thousands separators: 16384 → "16,384".
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
