//go:build !linux

package sqlitemem

import "time"

// ThreadCPU is unknown off Linux: benchmarks then report wall time only.
func ThreadCPU() time.Duration { return 0 }
