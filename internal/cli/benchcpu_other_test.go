//go:build !linux

package cli

import "time"

// processCPU is unknown off Linux: the benchmark then reports no CPU time.
func processCPU() time.Duration { return 0 }
