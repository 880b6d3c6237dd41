package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// ttftRecorder is a companion.Observer that keeps each provider time to first token.
type ttftRecorder struct {
	mu   sync.Mutex
	ttft []time.Duration
}

func (r *ttftRecorder) TurnFinished(string, time.Duration) {}
func (r *ttftRecorder) Error(string)                       {}
func (r *ttftRecorder) FirstToken(_ string, d time.Duration) {
	r.mu.Lock()
	r.ttft = append(r.ttft, d)
	r.mu.Unlock()
}

func (r *ttftRecorder) last() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ttft[len(r.ttft)-1]
}

// BenchmarkTurnOverhead measures os1's own share of the time to first token:
// from sending a message to reading the first delta at the client, minus
// the provider's time to first token as os1 measured it. The scripted model
// answers with no delay. Reported as p50/p99 in microseconds.
func BenchmarkTurnOverhead(b *testing.B) {
	rec := &ttftRecorder{}
	e := newEnvWith(b, true, clock.System{}, rec)
	e.llm.Handle(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Hi", " there", ", how", " are", " you?"}}
	})
	o := e.owner()
	o.token = o.want(http.StatusCreated, "POST", "/api/tokens", map[string]string{"name": "bench"})["token"].(string)
	// A conversation with some history, as in real use.
	conv := o.newConversation()
	for i := 0; i < 10; i++ {
		o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "warming up the conversation"})
	}
	body, _ := json.Marshal(map[string]string{"text": "What should I write to Catherine?"})
	url := e.http.URL + "/api/conversations/" + conv + "/messages"
	overheads := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+o.token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := o.hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(res.Body)
		var first time.Duration
		for sc.Scan() {
			line := sc.Text()
			if first == 0 && strings.HasPrefix(line, `data: {"type":"delta"`) {
				first = time.Since(start)
			}
		}
		res.Body.Close()
		if first == 0 {
			b.Fatal("no delta received")
		}
		overheads = append(overheads, first-rec.last())
	}
	b.StopTimer()
	sort.Slice(overheads, func(i, j int) bool { return overheads[i] < overheads[j] })
	pct := func(p float64) float64 {
		return float64(overheads[int(p*float64(len(overheads)-1))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-overhead-µs")
	b.ReportMetric(pct(0.99), "p99-overhead-µs")
}
