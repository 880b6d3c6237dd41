package metrics

import (
	"bufio"
	"io"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// scrapeGCPauses reads os1_gc_pause_seconds from /metrics: the cumulative
// count at each bound, in order, and the total count.
func scrapeGCPauses(t *testing.T, m *Metrics) (les []string, cum []uint64, count uint64, size int) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	count = ^uint64(0)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "os1_gc_pause_seconds") {
			continue
		}
		v, err := strconv.ParseUint(val, 10, 64)
		if name == "os1_gc_pause_seconds_count" {
			if err != nil {
				t.Fatalf("%q", sc.Text())
			}
			count = v
			continue
		}
		if le, ok := strings.CutPrefix(name, `os1_gc_pause_seconds_bucket{le="`); ok {
			if err != nil {
				t.Fatalf("%q", sc.Text())
			}
			les = append(les, strings.TrimSuffix(le, `"}`))
			cum = append(cum, v)
		}
	}
	if count == ^uint64(0) {
		t.Fatalf("/metrics has no os1_gc_pause_seconds:\n%s", body)
	}
	return les, cum, count, len(body)
}

// The runtime's GC pause histogram is exported with bounds fine enough
// for a p99 (a factor 1.5 apart), and a forced GC shows up in it.
func TestGCPauseHistogram(t *testing.T) {
	m := New()
	runtime.GC()
	les, before, n0, size := scrapeGCPauses(t, m)
	t.Logf("/metrics: %d bytes, %d GC pause buckets", size, len(les))
	if len(les) < 30 || len(les) > 45 || les[len(les)-1] != "+Inf" {
		t.Fatalf("bounds %q: want about 37 and +Inf", les)
	}
	prev := 0.0
	for i, le := range les[:len(les)-1] {
		b, err := strconv.ParseFloat(le, 64)
		if err != nil || b <= prev || (prev > 0 && b > prev*1.51) {
			t.Fatalf("bound %d %q after %v: want rising at most 1.5× each", i, le, prev)
		}
		prev = b
	}
	if first, _ := strconv.ParseFloat(les[0], 64); first > 5e-6 || prev < 1 {
		t.Errorf("bounds %s … %v: want 4 µs to 1 s", les[0], prev)
	}
	for i := 1; i < len(before); i++ {
		if before[i] < before[i-1] {
			t.Fatalf("counts %v are not cumulative", before)
		}
	}
	if n0 < 1 || before[len(before)-1] != n0 {
		t.Fatalf("after a GC: %d pauses, +Inf bucket %d", n0, before[len(before)-1])
	}
	runtime.GC()
	runtime.GC()
	_, after, n1, _ := scrapeGCPauses(t, m)
	if n1 < n0+2 {
		t.Errorf("two forced GCs moved the pause count from %d to %d only", n0, n1)
	}
	for i := range after {
		if after[i] < before[i] {
			t.Errorf("bucket %s went down: %d then %d", les[i], before[i], after[i])
		}
	}
}
