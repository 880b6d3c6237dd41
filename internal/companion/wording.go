package companion

import (
	"errors"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/llm"
)

// detailsMark separates a failure's plain sentence from its technical
// details in store.Message.Error (one column holds both; SplitFailure
// takes them apart for clients).
const detailsMark = "\n\nDetails: "

// FailureText joins the sentence a person reads and the technical details
// behind it into the text stored on a failed reply.
func FailureText(sentence, details string) string {
	if details == "" || details == sentence {
		return sentence
	}
	return sentence + detailsMark + details
}

// SplitFailure takes a stored failure text apart: the plain sentence shown
// in the chat, and the details shown behind a disclosure ("" when none).
func SplitFailure(stored string) (sentence, details string) {
	if i := strings.Index(stored, detailsMark); i >= 0 {
		return stored[:i], stored[i+len(detailsMark):]
	}
	return stored, ""
}

// Sentence gives a message sentence case: its first letter upper case.
func Sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// PlainFailure is plainFailure for callers outside a turn (choosing a
// name, checking a model): a sentence for the user and the details.
func PlainFailure(err error) (sentence, details string) { return plainFailure(err) }

// plainFailure turns a failed model call into a short sentence in plain
// words (what happened and what to do) and the technical details (the
// provider error as the client saw it), for the disclosure under it.
func plainFailure(err error) (sentence, details string) {
	details = err.Error()
	at := ""
	if host := modelHost(err); host != "" {
		at = " at " + host
	}
	var le *llm.Error
	errors.As(err, &le)
	switch llm.KindOf(err) {
	case llm.KindConnection:
		if strings.Contains(details, "broke in the middle") || strings.Contains(details, "ended before the reply was complete") {
			sentence = "The connection to the model" + at + " broke before the reply was finished. Try again."
		} else {
			sentence = "I can't reach the model" + at + " — is it running?"
		}
	case llm.KindTimeout:
		sentence = "The model" + at + " took too long to answer. Try again; if it keeps happening it may be overloaded or still loading."
	case llm.KindRateLimited:
		wait := "in a moment"
		if le != nil && le.RetryAfter >= time.Second {
			wait = "in " + le.RetryAfter.Round(time.Second).String()
		}
		sentence = "The model is busy with too many requests. Try again " + wait + "."
	case llm.KindAuth:
		sentence = "The model" + at + " turned down the API key. Check the key in Settings."
	case llm.KindServer:
		sentence = "The model could not answer because its server had a problem. Try again in a moment."
	case llm.KindContextOverflow:
		sentence = "This conversation is too long for the model's context window. Start a new conversation, or give the model a larger context (see Details)."
	case llm.KindCutOff:
		sentence = "The reply was cut off by the model's token limit. Try again."
	case llm.KindBadRequest:
		sentence = "The model could not take this request. Check the model name and connection in Settings."
	case llm.KindProtocol:
		sentence = "The model's answer could not be read. Check that its URL points at a compatible API."
	default:
		sentence = "The model could not answer. Try again."
	}
	return sentence, details
}

var urlInText = regexp.MustCompile(`https?://[^\s;,)]+`)

// modelHost finds the host and port of the model server an error is
// about: from the failed request's URL, the refused address, or a URL in
// the error's text.
func modelHost(err error) string {
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
