package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestScrape(t *testing.T) {
	m := New()
	m.TurnFinished("complete", 1500*time.Millisecond)
	m.FirstToken("openai", 200*time.Millisecond)
	m.Error("rate_limited")
	m.Error("")
	m.HTTPStatus(404)
	m.HTTPStatus(200)
	m.HTTPStatus(999) // ignored
	m.MemoryEvent("added", 3)
	m.VoiceStage("first_audio", 400*time.Millisecond)
	m.VoiceBargeIn("server")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`os1_turn_duration_seconds_bucket{outcome="complete",le="2"} 1`,
		`os1_turn_duration_seconds_bucket{outcome="complete",le="1"} 0`,
		`os1_llm_time_to_first_token_seconds_count{provider="openai"} 1`,
		`os1_errors_total{kind="rate_limited"} 1`,
		`os1_errors_total{kind="unknown"} 1`,
		`os1_http_requests_total{code="4xx"} 1`,
		`os1_memory_events_total{event="added"} 3`,
		`os1_voice_stage_seconds_bucket{stage="first_audio",le="0.5"} 1`,
		`os1_voice_barge_ins_total{by="server"} 1`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
