package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The scripted model streams the reply it was asked for, token by token,
// and answers extraction and title prompts with what os1 can use.
func TestModelStreams(t *testing.T) {
	hs := httptest.NewServer(modelHandler(modelPace{ttft: 20 * time.Millisecond, tps: 1000, tokens: 5}))
	defer hs.Close()
	post := func(body string) (*http.Response, time.Duration) {
		t.Helper()
		t0 := time.Now()
		res, err := http.Post(hs.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return res, time.Since(t0)
	}
	res, _ := post(`{"stream":true,"messages":[{"role":"user","content":"hello"}]}`)
	var chunks, done int
	var text strings.Builder
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		switch {
		case !ok:
		case data == "[DONE]":
			done++
		default:
			chunks++
			if m := regexp.MustCompile(`"content":"([^"]*)"`).FindStringSubmatch(data); m != nil {
				text.WriteString(m[1])
			}
		}
	}
	res.Body.Close()
	if text.String() != strings.Repeat(word, 5) || chunks != 6 || done != 1 {
		t.Errorf("stream: %q in %d chunks, %d [DONE]; want 5 tokens, 5+1 chunks, one [DONE]", text.String(), chunks, done)
	}
	res, _ = post(`{"messages":[{"role":"system","content":"Extract. Answer with JSON only, no other text"}]}`)
	b := new(strings.Builder)
	_, _ = bufio.NewReader(res.Body).WriteTo(b)
	res.Body.Close()
	if !strings.Contains(b.String(), `"content":"{\"operations\":[]}"`) {
		t.Errorf("extraction answer: %s", b)
	}
	st, _ := http.Get(hs.URL + "/stats")
	var chat, extraction, title int
	_, err := fmtSscan(st, &chat, &extraction, &title)
	if err != nil || chat != 1 || extraction != 1 || title != 0 {
		t.Errorf("stats: %d %d %d %v", chat, extraction, title, err)
	}
}

// The harness end to end at a tiny scale, against the real os1 binary:
// every turn ends well and the table has its figures (not timings).
func TestHarnessEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds os1 and runs it for ~20 s")
	}
	dir := t.TempDir()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build os1 with")
	}
	for pkg, out := range map[string]string{"../../cmd/os1": "os1", ".": "load"} {
		cmd := exec.Command(goBin, "build", "-o", filepath.Join(dir, out), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "load"), "-bin", filepath.Join(dir, "os1"), "-users", "5",
		"-think", "2s", "-jitter", "1s", "-ramp", "1s", "-duration", "6s", "-settle", "2s", "-sse", "0.2", "-tabs", "0.2",
		"-tps", "300", "-reply-tokens", "30")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("load: %v\n%s", err, out)
	}
	text := string(out)
	var row []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "| 5 |") {
			for _, c := range strings.Split(strings.Trim(line, "| "), "|") {
				row = append(row, strings.TrimSpace(c))
			}
		}
	}
	if len(row) != 16 {
		t.Fatalf("no table row for 5 users:\n%s", text)
	}
	num := func(s string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(s, " MiB"), "%"), 64)
		if err != nil {
			t.Fatalf("%q is not a number in the row %q\n%s", s, row, text)
		}
		return v
	}
	if turns := num(row[1]); turns < 2 {
		t.Errorf("%v turns in 6 s with 5 users thinking 2 s", turns)
	}
	if row[5] != "0" {
		t.Errorf("errors: %s\n%s", row[5], text)
	}
	lat := strings.Split(row[3], " / ")
	if len(lat) != 3 || num(lat[0]) < 0 || num(lat[1]) < num(lat[0]) || num(lat[2]) < num(lat[1]) {
		t.Errorf("added first token p50/p99/max %q: want three rising numbers ≥ 0 (the model's TTFT is taken off)", row[3])
	}
	if num(row[6]) < 1 || num(row[10]) < 5 || num(row[12]) < 1 {
		t.Errorf("os1 RSS %q, goroutines %q, open files %q: figures missing", row[6], row[10], row[12])
	}
	if m := regexp.MustCompile(`^0 of ([0-9]+)$`).FindStringSubmatch(row[13]); m == nil || m[1] == "0" {
		t.Errorf("second tab: %q; want every turn seen by the tab (0 of n>0)", row[13])
	}
	if row[15] != "0" {
		t.Errorf("lost: %q; every message and reply must be stored", row[15])
	}
	for _, want := range []string{"idle baseline: os1 RSS", "after 5 users disconnected", "memory extractions"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "only ") && strings.Contains(text, "users connected") {
		t.Errorf("not every user connected:\n%s", text)
	}
}

func fmtSscan(res *http.Response, v ...any) (int, error) {
	defer res.Body.Close()
	return fmt.Fscan(res.Body, v...)
}
