// Command startup measures how fast `os1 serve` starts and how much memory
// it holds once idle. Each run starts the binary with a fresh data dir (so
// the database, its migrations and the secret key are made anew), polls its
// TCP port until a connection succeeds, then waits a moment and reads the
// process's resident memory. It prints min, median, p90 and max over the runs.
//
//	go run ./bench/startup -bin bin/os1 [-n 20] [-idle 2s]
//
// It reports numbers and never passes or fails on them; it must leave no
// os1 process or data dir behind, also when interrupted.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/os1", "the os1 binary to measure (build it with `make build`)")
	n := flag.Int("n", 20, "number of runs")
	idle := flag.Duration("idle", 2*time.Second, "how long os1 idles after it listens before its memory is read")
	timeout := flag.Duration("timeout", 30*time.Second, "give up on a run that does not listen within this time")
	flag.Parse()
	if *n < 1 {
		fmt.Fprintln(os.Stderr, "startup: -n must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench(ctx, *bin, *n, *idle, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		stop()
		os.Exit(1)
	}
}

func bench(ctx context.Context, bin string, n int, idle, timeout time.Duration) error {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("no os1 binary at %s (run `make build`, or pass -bin): %w", bin, err)
	}
	version, _ := exec.CommandContext(ctx, abs, "version").Output()
	fmt.Printf("os1 serve start-up: %s (%s)\n", bin, strings.TrimSpace(string(version)))
	fmt.Printf("%d runs, each with a fresh data dir, no model (OS1_OLLAMA_URL=off); RSS read after %v idle\n\n", n, idle)

	var starts, rss []float64
	for i := range n {
		r, err := measure(ctx, abs, idle, timeout)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		starts = append(starts, float64(r.listen)/float64(time.Millisecond))
		if r.rssKiB > 0 {
			rss = append(rss, float64(r.rssKiB)/1024)
		}
		fmt.Printf("run %3d: port accepts after %7.1f ms, idle RSS %6.1f MiB\n", i+1, starts[len(starts)-1], float64(r.rssKiB)/1024)
	}

	fmt.Printf("\n%-30s %8s %8s %8s %8s\n", "", "min", "median", "p90", "max")
	row("exec to first connect (ms)", starts)
	if len(rss) > 0 {
		row(fmt.Sprintf("idle RSS after %v (MiB)", idle), rss)
	} else {
		fmt.Println("idle RSS: not available (needs /proc/PID/status, i.e. Linux)")
	}
	return nil
}

func row(name string, v []float64) {
	s := slices.Sorted(slices.Values(v))
	fmt.Printf("%-30s %8.1f %8.1f %8.1f %8.1f\n", name, s[0], quantile(s, 0.5), quantile(s, 0.9), s[len(s)-1])
}

// quantile of sorted values: the median interpolates between the middle
// two, other quantiles use the nearest rank.
func quantile(s []float64, q float64) float64 {
	if q == 0.5 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

type runResult struct {
	listen time.Duration
	rssKiB int64 // 0 where /proc is missing
}

// measure starts os1 once, times it to its first accepted connection, reads
// its idle RSS and stops it.
func measure(ctx context.Context, bin string, idle, timeout time.Duration) (res runResult, err error) {
	dir, err := os.MkdirTemp("", "os1-bench-startup-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"OS1_DATA_DIR=" + filepath.Join(dir, "data"),
		"OS1_ADDR=" + addr,
		"OS1_OLLAMA_URL=off",
		"OS1_LOG_LEVEL=warn",
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = sysProcAttr()

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if serr := stopProcess(cmd, done); serr != nil && err == nil {
			err = serr
		}
		if err != nil && ctx.Err() == nil && stderr.Len() > 0 {
			err = fmt.Errorf("%w\nos1 stderr:\n%s", err, stderr.String())
		}
	}()

	deadline := start.Add(timeout)
	for {
		c, derr := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if derr == nil {
			res.listen = time.Since(start)
			c.Close()
			break
		}
		select {
		case werr := <-done:
			done <- werr // for stopProcess
			return res, fmt.Errorf("os1 serve exited before it listened: %v", werr)
		case <-ctx.Done():
			return res, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("os1 serve did not accept a connection on %s within %v", addr, timeout)
		}
		time.Sleep(50 * time.Microsecond)
	}

	select {
	case <-time.After(idle):
	case <-ctx.Done():
		return res, ctx.Err()
	case werr := <-done:
		done <- werr
		return res, fmt.Errorf("os1 serve exited while idle: %v", werr)
	}
	res.rssKiB, err = rssKiB(cmd.Process.Pid)
	return res, err
}

// stopProcess ends os1 with SIGTERM, or SIGKILL if it lingers, and waits.
func stopProcess(cmd *exec.Cmd, done chan error) error {
	select {
	case <-done:
		return nil // already gone; its exit was reported where it was seen
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("os1 serve did not stop within 10s of SIGTERM; killed it")
	}
}

// rssKiB reads VmRSS from /proc/PID/status; 0 without /proc.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, os.ErrNotExist) && !dirExists("/proc/self") {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS line in /proc/%d/status", pid)
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// freeAddr is a loopback address with a port that is free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
