package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// BenchmarkTurnWithMemory measures a turn as `os1 serve` runs it, memory
// included: bearer auth, storing the message, recalling memories for the
// prompt (embedding the message with USE-lite when it is installed, plus a
// hybrid search), the history read, then the model call. Reported is the
// time from sending the message to reading the first delta, with a scripted
// model that answers at once: an upper bound of os1's own overhead (it also
// holds the loopback round trip to the scripted model, ~0.3 ms). Every
// message differs, so each is embedded (the embedder caches recent texts).
// cpu-µs/turn is the CPU time of the whole process (os1, the scripted
// model and the client) per turn, which other processes on a shared machine
// do not inflate as they do the latencies.
func BenchmarkTurnWithMemory(b *testing.B) {
	var extra []string
	if h, err := os.UserHomeDir(); err == nil {
		if _, err := os.Stat(filepath.Join(h, ".cache", "os1", "models", "use-lite", "model.json")); err == nil {
			extra = []string{"OS1_CACHE_DIR", filepath.Join(h, ".cache", "os1")}
		}
	}
	if extra == nil {
		b.Log("no USE-lite model in ~/.cache/os1 (scripts/assets.sh model): measuring full-text recall only")
	}
	r := startApp(b, extra...)
	r.llm.Handle(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"That sounds", " lovely."}}
	})
	token, err := login(context.Background(), r.url, "theo", "correct horse")
	if err != nil {
		b.Fatal(err)
	}
	post := func(path string, body any) *http.Response {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", r.url+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+token.Token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	var conv struct{ ID string }
	res := post("/api/conversations", map[string]string{"title": "bench"})
	_ = json.NewDecoder(res.Body).Decode(&conv)
	res.Body.Close()
	turn := func(text string) time.Duration {
		start := time.Now()
		res := post("/api/conversations/"+conv.ID+"/messages", map[string]string{"text": text})
		defer res.Body.Close()
		var first time.Duration
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if first == 0 && strings.HasPrefix(sc.Text(), `data: {"type":"delta"`) {
				first = time.Since(start)
			}
		}
		if first == 0 {
			b.Fatal("no delta")
		}
		return first
	}
	// Some history and some memories to recall from.
	for _, s := range []string{"My sister Catherine moved to Denver in March.", "I adopted a cat called Mochi.",
		"Work has been stressful since the reorg.", "I'm writing a letter to my grandmother this week."} {
		turn(s)
	}
	// Every message differs, as in a real conversation: the embedder's
	// cache of recent vectors must not answer for it.
	questions := []string{"How is Catherine settling in, do you think?", "Should I send Mochi's photo to my grandmother?",
		"Do you think the reorg will calm down soon?", "What should I write in the letter?",
		"Is Denver nice in the spring?", "Why am I so tired after work lately?"}
	lat := make([]time.Duration, 0, b.N)
	cpu := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = append(lat, turn(fmt.Sprintf("%s It has been %d days.", questions[i%len(questions)], i+1)))
	}
	b.StopTimer()
	if cpu > 0 {
		b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/turn")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-first-delta-µs")
	b.ReportMetric(float64(lat[int(0.99*float64(len(lat)-1))].Microseconds()), "p99-first-delta-µs")
}
