package sqlitemem

import (
	"syscall"
	"time"
	"unsafe"
)

// clockProcessCPUTime is Linux's CLOCK_PROCESS_CPUTIME_ID.
const clockProcessCPUTime = 2

// ProcessCPU returns the CPU time the whole process has used: with a
// benchmark's work spread over goroutines (recall runs its text and vector
// searches side by side), the difference between two calls is what one
// operation cost on all cores together, however many other processes
// competed for them meanwhile.
func ProcessCPU() time.Duration { return clockTime(clockProcessCPUTime) }

func clockTime(id uintptr) time.Duration {
	var ts syscall.Timespec
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
