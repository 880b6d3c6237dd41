// Package metrics defines os1's Prometheus metrics on a registry of its own
// (no global registry) and implements the companion's Observer.
//
// Metrics must never carry user content or user IDs as labels.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds os1's collectors.
type Metrics struct {
	reg      *prometheus.Registry
	turn     *prometheus.HistogramVec
	ttft     *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	httpReqs *prometheus.CounterVec
	memory   *prometheus.CounterVec
	stage    *prometheus.HistogramVec
	bargeIns *prometheus.CounterVec
}

// New registers os1's metrics plus the Go and process collectors and the
// runtime's GC pause histogram (os1_gc_pause_seconds).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		turn: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "os1_turn_duration_seconds",
			Help:    "Time from a user's message to the end of the companion's turn, by outcome.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 4, 8, 16, 32, 64},
		}, []string{"outcome"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "os1_llm_time_to_first_token_seconds",
			Help:    "Time from sending a request to a model provider to its first streamed event.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 4, 8, 16},
		}, []string{"provider"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "os1_errors_total",
			Help: "Errors by kind (rate_limited, server, auth, timeout, connection, protocol, no_model, tool, store, ...).",
		}, []string{"kind"}),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "os1_http_requests_total",
			Help: "HTTP requests by status class.",
		}, []string{"code"}),
		memory: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "os1_memory_events_total",
			Help: "Memory work by event (added, duplicate, rejected_echo, dropped_cap, invalid_json, model_error, index, journal, retry, ...).",
		}, []string{"event"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "os1_voice_stage_seconds",
			Help:    "Time from the end of the user's speech in a call to each stage of the turn (end_of_turn, transcript, first_token, first_audio, playback_start).",
			Buckets: []float64{.025, .05, .1, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 10},
		}, []string{"stage"}),
		bargeIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "os1_voice_barge_ins_total",
			Help: "Replies cut off in a call, by who noticed (client, server, text, hangup).",
		}, []string{"by"}),
	}
	reg.MustRegister(m.turn, m.ttft, m.errors, m.httpReqs, m.memory, m.stage, m.bargeIns, newGCPauses(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry exposes the registry so later subsystems can add collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// TurnFinished records a finished turn.
func (m *Metrics) TurnFinished(outcome string, d time.Duration) {
	m.turn.WithLabelValues(outcome).Observe(d.Seconds())
}

// FirstToken records a provider's time to first token.
func (m *Metrics) FirstToken(provider string, d time.Duration) {
	m.ttft.WithLabelValues(provider).Observe(d.Seconds())
}

// Error counts an error of a kind.
func (m *Metrics) Error(kind string) {
	if kind == "" {
		kind = "unknown"
	}
	m.errors.WithLabelValues(kind).Inc()
}

// MemoryEvent counts memory work (n events of one kind).
func (m *Metrics) MemoryEvent(event string, n int) {
	m.memory.WithLabelValues(event).Add(float64(n))
}

// VoiceStage records when a stage of a spoken turn was reached, after the
// end of the user's speech.
func (m *Metrics) VoiceStage(stage string, d time.Duration) {
	m.stage.WithLabelValues(stage).Observe(d.Seconds())
}

// VoiceBargeIn counts a reply cut off in a call.
func (m *Metrics) VoiceBargeIn(by string) {
	m.bargeIns.WithLabelValues(by).Inc()
}

// HTTPStatus counts a response by status class ("2xx", "4xx", ...).
func (m *Metrics) HTTPStatus(code int) {
	class := [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}
	i := code/100 - 1
	if i < 0 || i >= len(class) {
		return
	}
	m.httpReqs.WithLabelValues(class[i]).Inc()
}
