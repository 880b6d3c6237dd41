// Command login measures what a storm of sign-ins costs `os1 serve`: it
// starts the binary with a fresh data dir, creates the owner through the
// setup link, then sends -n sign-ins at once, each from its own address
// (os1 trusts loopback as a proxy for this run, so X-Forwarded-For sets
// the address), with wrong passwords for random usernames. It prints how
// the server answered (401 checked, 429 throttled, 503 busy), the latency
// of the answers and the server's peak resident memory (VmHWM) before and
// after the storm.
//
//	go run ./bench/login -bin bin/os1 [-n 60] [-rounds 3]
//
// It reports numbers and never passes or fails on them; it leaves no os1
// process or data dir behind.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/os1", "the os1 binary to measure (build it with `make build`)")
	n := flag.Int("n", 60, "sign-ins sent at once, each from its own address")
	rounds := flag.Int("rounds", 3, "storms, one after another")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *n, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "login:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, bin string, n, rounds int) error {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("no os1 binary at %s (run `make build`, or pass -bin): %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "os1-bench-login-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, abs, "serve")
	cmd.Env = []string{"HOME=" + dir, "OS1_DATA_DIR=" + filepath.Join(dir, "data"), "OS1_CACHE_DIR=" + filepath.Join(dir, "cache"),
		"OS1_ADDR=" + addr, "OS1_OLLAMA_URL=off", "OS1_STT=off", "OS1_TTS=off", "OS1_TRUSTED_PROXIES=127.0.0.1", "PATH=" + os.Getenv("PATH")}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = io.Discard
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		t := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
		_ = cmd.Wait()
		t.Stop()
	}()
	link, err := setupLink(out)
	if err != nil {
		return err
	}
	base := "http://" + addr
	_, token, _ := strings.Cut(link, "token=")
	body, _ := json.Marshal(map[string]string{"token": token, "username": "theo", "password": "correct horse battery"})
	res, err := http.Post(base+"/api/setup", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("setup answered %d", res.StatusCode)
	}
	version, _ := exec.CommandContext(ctx, abs, "version").Output()
	fmt.Printf("os1 sign-in storm: %s (%s), %d at once × %d rounds\n", bin, strings.TrimSpace(string(version)), n, rounds)
	before, _ := peakKiB(cmd.Process.Pid)
	fmt.Printf("peak RSS before: %.1f MiB\n", float64(before)/1024)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: time.Minute}
	for r := range rounds {
		codes := map[int]int{}
		var lat []time.Duration
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, _ := json.Marshal(map[string]string{"username": fmt.Sprintf("user%d-%d", r, i), "password": "wrong password"})
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/login", bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", r, i/250, i%250+1))
				t0 := time.Now()
				res, err := client.Do(req)
				d := time.Since(t0)
				code := 0
				if err == nil {
					code = res.StatusCode
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mu.Lock()
				codes[code]++
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		wall := time.Since(start)
		slices.Sort(lat)
		peak, _ := peakKiB(cmd.Process.Pid)
		fmt.Printf("round %d: %v in %v; latency p50 %v p90 %v max %v; peak RSS %.1f MiB\n", r+1, fmtCodes(codes), wall.Round(time.Millisecond),
			lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*9/10].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), float64(peak)/1024)
	}
	return nil
}

func fmtCodes(c map[int]int) string {
	var keys []int
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", c[k], k))
	}
	return strings.Join(parts, " ")
}

var linkRE = regexp.MustCompile(`https?://\S+#/setup\?token=\S+`)

func setupLink(out io.Reader) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := linkRE.FindString(sc.Text()); m != "" {
				select {
				case found <- m:
				default:
				}
			}
		}
	}()
	select {
	case l := <-found:
		return l, nil
	case <-time.After(30 * time.Second):
		return "", errors.New("os1 serve printed no setup link within 30 s")
	}
}

// peakKiB reads the process's peak resident set (VmHWM) on Linux.
func peakKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
