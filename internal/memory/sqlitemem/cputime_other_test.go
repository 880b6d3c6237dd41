//go:build !linux

package sqlitemem

import "time"

// ProcessCPU is unknown off Linux: benchmarks then report wall time only.
func ProcessCPU() time.Duration { return 0 }
