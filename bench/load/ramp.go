package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// verdict is whether one step met the target: the added first-token p99
// at most -target-p99, no errors, nothing lost.
type verdict struct {
	users int
	met   bool
	why   string // what missed; empty when met
}

// judge weighs one step's figures against the target. p99 is in ms (NaN
// when no turn was measured); lost counts conversations' missing messages.
func judge(users int, p99 float64, errs, lost int, target time.Duration) verdict {
	var why []string
	limit := float64(target) / float64(time.Millisecond)
	switch {
	case math.IsNaN(p99):
		why = append(why, "no turn measured")
	case p99 > limit:
		why = append(why, fmt.Sprintf("p99 %s ms > %s ms", ms(p99), ms(limit)))
	}
	if errs > 0 {
		why = append(why, fmt.Sprintf("%d errors", errs))
	}
	if lost > 0 {
		why = append(why, fmt.Sprintf("%d lost", lost))
	}
	return verdict{users: users, met: len(why) == 0, why: strings.Join(why, ", ")}
}

// cell is the "meets target" column.
func (v verdict) cell() string {
	if v.met {
		return "yes"
	}
	return "no: " + v.why
}

// grow is the step after n users that met the target: n × 1.5 rounded to
// tens (at least ten more), at most maxUsers; 0 when n is maxUsers already.
func grow(n, maxUsers int) int {
	if n >= maxUsers {
		return 0
	}
	next := int(math.Round(float64(n)*1.5/10)) * 10
	return min(max(next, n+10), maxUsers)
}

// nextStep is how many users the next step runs, given the -users list
// and the steps done so far (in order); 0 ends the run. Without
// untilBreak it is the list. With it the run stops at the first step that
// misses the target, and after the list it grows from the last step.
func nextStep(list []int, done []verdict, untilBreak bool, maxUsers int) int {
	if untilBreak && len(done) > 0 && !done[len(done)-1].met {
		return 0
	}
	if len(done) < len(list) {
		return list[len(done)]
	}
	if !untilBreak || len(done) == 0 {
		return 0
	}
	return grow(done[len(done)-1].users, maxUsers)
}

// rampSummary is the line after an -until-break run.
func rampSummary(done []verdict, maxUsers int) string {
	best := "none"
	for _, v := range done {
		if v.met {
			best = fmt.Sprint(v.users)
		}
	}
	if len(done) == 0 {
		return "largest N that met the target: none (no step ran)"
	}
	last := done[len(done)-1]
	if last.met {
		if last.users >= maxUsers {
			return fmt.Sprintf("largest N that met the target: %s (no miss up to -max-users %d)", best, maxUsers)
		}
		return fmt.Sprintf("largest N that met the target: %s (the run stopped before a miss)", best)
	}
	return fmt.Sprintf("largest N that met the target: %s (first miss: %d, %s)", best, last.users, last.why)
}
