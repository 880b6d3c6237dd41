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

// stat is /proc/PID/stat's fields after the command's name: state(0)
// ppid(1) … utime(11) stime(12) cutime(13) cstime(14) … rss(21, pages).
func stat(p string) ([]string, error) {
	b, err := os.ReadFile("/proc/" + p + "/stat")
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil, fmt.Errorf("bad /proc/%s/stat", p)
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 22 {
		return nil, fmt.Errorf("short /proc/%s/stat", p)
	}
	return f, nil
}

func ticks(f []string, idx ...int) float64 {
	var sum float64
	for _, i := range idx {
		v, _ := strconv.ParseFloat(f[i], 64)
		sum += v
	}
	return sum / clkTck
}

// procSample reads a process's CPU time (user+system, seconds), resident
// memory (bytes) and open file count from /proc. pid 0 is this process.
func procSample(pid int) (cpu float64, rss int64, fds int, err error) {
	p := "self"
	if pid > 0 {
		p = strconv.Itoa(pid)
	}
	f, err := stat(p)
	if err != nil {
		return 0, 0, 0, err
	}
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	ents, _ := os.ReadDir("/proc/" + p + "/fd")
	return ticks(f, 11, 12), pages * int64(os.Getpagesize()), len(ents), nil
}

// procTreeCPU is the CPU time (seconds) of a process and its children:
// PostgreSQL's postmaster runs a backend process per connection. Children
// that exited count through the parent's cutime and cstime; live ones
// through their own stat.
func procTreeCPU(pid int) (float64, error) {
	root := strconv.Itoa(pid)
	f, err := stat(root)
	if err != nil {
		return 0, err
	}
	sum := ticks(f, 11, 12, 13, 14)
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return sum, nil
	}
	for _, e := range ents {
		name := e.Name()
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		if c, err := stat(name); err == nil && c[1] == root {
			sum += ticks(c, 11, 12, 13, 14)
		}
	}
	return sum, nil
}
