package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr makes the kernel kill a child if this command dies first, so
// an aborted run leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// clkTck is USER_HZ, the unit of /proc/PID/stat's CPU times (100 on Linux).
const clkTck = 100

// procSample reads a process's CPU time (user+system, seconds), resident
// memory (bytes) and open file count from /proc. pid 0 is this process.
func procSample(pid int) (cpu float64, rss int64, fds int, err error) {
	p := "self"
	if pid > 0 {
		p = strconv.Itoa(pid)
	}
	b, err := os.ReadFile("/proc/" + p + "/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, fmt.Errorf("bad /proc stat")
	}
	f := strings.Fields(s[i+2:])
	// fields after ")": state(0) … utime(11) stime(12) … rss(21, pages)
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	ents, _ := os.ReadDir("/proc/" + p + "/fd")
	return (ut + st) / clkTck, pages * int64(os.Getpagesize()), len(ents), nil
}
