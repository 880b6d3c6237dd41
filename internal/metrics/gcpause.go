package metrics

import (
	"math"
	"runtime/metrics"

	"github.com/prometheus/client_golang/prometheus"
)

// gcPauseMetric is the runtime's distribution of GC stop-the-world pauses
// (Go 1.22 and later; /gc/pauses:seconds is its deprecated alias).
const gcPauseMetric = "/sched/pauses/total/gc:seconds"

// gcPauses exports gcPauseMetric as os1_gc_pause_seconds. The runtime's
// histogram has about 160 buckets (four per power of two); client_golang's
// Go collector would regroup it into powers of ten, which makes a p99 read
// from it land on 0.1 ms or 1 ms whatever the pauses are. This keeps the
// runtime's own bounds at 2^k and 1.5·2^k nanoseconds from 4 µs to about
// 1 s (37 buckets), so a quantile read from it is within a factor 1.5.
// Counts are cumulative since the process started, like any histogram.
type gcPauses struct {
	desc *prometheus.Desc
	// keep[i] is the runtime bucket index whose upper bound is bounds[i].
	keep   []int
	bounds []float64
}

func newGCPauses() *gcPauses {
	c := &gcPauses{desc: prometheus.NewDesc("os1_gc_pause_seconds",
		"Go GC stop-the-world pauses (runtime/metrics "+gcPauseMetric+"), each pause one observation; bucket bounds are the runtime's own, at 2^k and 1.5·2^k ns. The sum is estimated from bucket midpoints.",
		nil, nil)}
	s := []metrics.Sample{{Name: gcPauseMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return c // an unknown runtime: the metric is left out
	}
	b := s[0].Value.Float64Histogram().Buckets
	for i := 1; i < len(b); i++ {
		ns := b[i] * 1e9
		if math.IsInf(b[i], 1) || ns < 4096 || ns > 1<<30*1.01 {
			continue
		}
		r := math.Round(ns)
		if math.Abs(ns-r) > 1e-3*r {
			continue
		}
		n := int64(r)
		for n%2 == 0 {
			n /= 2
		}
		if n == 1 || n == 3 { // 2^k or 3·2^(k-1)
			c.keep = append(c.keep, i-1)
			c.bounds = append(c.bounds, b[i])
		}
	}
	return c
}

func (c *gcPauses) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *gcPauses) Collect(ch chan<- prometheus.Metric) {
	if len(c.bounds) == 0 {
		return
	}
	s := []metrics.Sample{{Name: gcPauseMetric}}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	buckets := make(map[float64]uint64, len(c.bounds))
	var cum, total uint64
	var sum float64
	k := 0
	for i, n := range h.Counts {
		total += n
		if n > 0 {
			lo, hi := h.Buckets[i], h.Buckets[i+1]
			switch {
			case math.IsInf(lo, -1): // nothing lasts under 0 s
			case math.IsInf(hi, 1):
				sum += float64(n) * lo
			default:
				sum += float64(n) * (lo + hi) / 2
			}
		}
		cum += n
		if k < len(c.keep) && i == c.keep[k] {
			buckets[c.bounds[k]] = cum
			k++
		}
	}
	ch <- prometheus.MustNewConstHistogram(c.desc, total, sum, buckets)
}
