package companion

import (
	"strings"
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
func PlainFailure(err error) (sentence, details string) { return llm.PlainFailure(err) }

// plainFailure turns a failed model call into a short sentence in plain
// words (what happened and what to do) and the technical details (the
// provider error as the client saw it), for the disclosure under it. The
// wording lives in llm (llm.PlainFailure), so the model status
// (internal/models) says the same sentence as the chat.
func plainFailure(err error) (sentence, details string) { return llm.PlainFailure(err) }
