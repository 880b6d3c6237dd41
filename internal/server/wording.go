package server

import (
	"net/http"

	"github.com/os1ai/os1/internal/companion"
)

// writeErrorDetails is writeError with the technical text behind the
// sentence (a model's own error), which clients show behind a disclosure.
func writeErrorDetails(w http.ResponseWriter, status int, code, msg, details string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: companion.Sentence(msg), Details: details}})
}

// writeModelError answers with a model failure in plain words: a sentence
// from companion.PlainFailure, and the provider's error as details.
func writeModelError(w http.ResponseWriter, err error) {
	sentence, details := companion.PlainFailure(err)
	writeErrorDetails(w, http.StatusBadGateway, "model_error", sentence, details)
}
