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
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store/pgtest"
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

func TestMain(m *testing.M) {
	// the cluster test's harness starts its own PostgreSQL (pgtest.StartServer)
	pgtest.MainThen(m, func() {
		if binDir != "" {
			os.RemoveAll(binDir)
		}
	})
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds os1 and the harness once for the package's tests.
func binaries(t *testing.T) (os1, load string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds os1 and runs it for ~20 s")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build os1 with")
	}
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "os1-load-test-"); buildErr != nil {
			return
		}
		for pkg, out := range map[string]string{"../../cmd/os1": "os1", ".": "load"} {
			cmd := exec.Command(goBin, "build", "-o", filepath.Join(binDir, out), pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "os1"), filepath.Join(binDir, "load")
}

// runLoad runs the harness at a tiny scale (human pace sped up) with args.
func runLoad(t *testing.T, args ...string) string {
	t.Helper()
	os1, load := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args = append([]string{"-bin", os1, "-think", "2s", "-jitter", "1s", "-ramp", "1s", "-settle", "2s", "-tps", "300", "-reply-tokens", "30"}, args...)
	out, err := exec.CommandContext(ctx, load, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("load %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// table reads the harness's Markdown table: one map per row, by header.
func table(t *testing.T, text string) (head []string, rows []map[string]string) {
	t.Helper()
	cells := func(line string) []string {
		var c []string
		for _, f := range strings.Split(strings.Trim(line, "| "), "|") {
			c = append(c, strings.TrimSpace(f))
		}
		return c
	}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "| users |"):
			head = cells(line)
		case strings.HasPrefix(line, "|---"):
		case strings.HasPrefix(line, "| ") && head != nil:
			c := cells(line)
			if len(c) != len(head) {
				t.Fatalf("a row of %d cells under %d headers: %q\n%s", len(c), len(head), line, text)
			}
			row := map[string]string{}
			for i, h := range head {
				row[h] = c[i]
			}
			rows = append(rows, row)
		}
	}
	if head == nil {
		t.Fatalf("no table:\n%s", text)
	}
	return head, rows
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(s, " MiB"), "%"), 64)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return v
}

// checkRow asserts what every step must show: turns, no errors, nothing
// lost, and every turn's end seen by the second tabs (wantTabs: some).
func checkRow(t *testing.T, row map[string]string, wantTabs bool, text string) {
	t.Helper()
	if turns := num(t, row["turns"]); turns < 2 {
		t.Errorf("%v turns with %s users thinking 2 s\n%s", turns, row["users"], text)
	}
	if row["errors"] != "0" {
		t.Errorf("errors: %s\n%s", row["errors"], text)
	}
	lat := strings.Split(row["added first token p50 / p99 / max (ms)"], " / ")
	if len(lat) != 3 || num(t, lat[0]) < 0 || num(t, lat[1]) < num(t, lat[0]) || num(t, lat[2]) < num(t, lat[1]) {
		t.Errorf("added first token p50/p99/max %q: want three rising numbers ≥ 0 (the model's TTFT is taken off)", lat)
	}
	m := regexp.MustCompile(`^0 of ([0-9]+)$`).FindStringSubmatch(row["second tab missed"])
	if m == nil || (wantTabs && m[1] == "0") {
		t.Errorf("second tab: %q; want every turn seen by the tab (0 of n>0)\n%s", row["second tab missed"], text)
	}
	checkPauses(t, row, text)
	if row["lost"] != "0" {
		t.Errorf("lost: %q; every message and reply must be stored\n%s", row["lost"], text)
	}
	if strings.Contains(text, "only ") && strings.Contains(text, "users connected") {
		t.Errorf("not every user connected:\n%s", text)
	}
}

// checkPauses asserts the GC pause p50 / p99 cell reads os1's histogram:
// "no pause" in the window, or two bounds, p50 ≤ p99, and a count.
func checkPauses(t *testing.T, row map[string]string, text string) {
	t.Helper()
	var cell string
	for h, v := range row {
		if strings.HasPrefix(h, "GC pause p50 / p99 (ms, bucket upper bound") {
			cell = v
		}
	}
	if cell == "no pause" {
		return
	}
	m := regexp.MustCompile(`^([0-9.]+) / (> )?([0-9.]+) \(([0-9]+) pauses?\)$`).FindStringSubmatch(cell)
	if m == nil || num(t, m[1]) <= 0 || (m[2] == "" && num(t, m[3]) < num(t, m[1])) || num(t, m[4]) < 1 {
		t.Errorf("GC pause p50 / p99: %q; want \"p50 / p99 (n pauses)\" from os1_gc_pause_seconds\n%s", cell, text)
	}
}

// The harness end to end at a tiny scale, against the real os1 binary:
// every turn ends well and the table has its figures (not timings).
func TestHarnessEndToEnd(t *testing.T) {
	text := runLoad(t, "-users", "5", "-duration", "6s", "-sse", "0.2", "-tabs", "0.2")
	head, rows := table(t, text)
	if len(head) != 17 || len(rows) != 1 || rows[0]["users"] != "5" {
		t.Fatalf("want one row for 5 users under 17 headers:\n%s", text)
	}
	row := rows[0]
	checkRow(t, row, true, text)
	if num(t, row["os1 RSS max"]) < 1 || num(t, row["goroutines max"]) < 5 || num(t, row["open files max"]) < 1 {
		t.Errorf("os1 RSS %q, goroutines %q, open files %q: figures missing", row["os1 RSS max"], row["goroutines max"], row["open files max"])
	}
	for _, want := range []string{"idle baseline: os1 RSS", "after 5 users disconnected", "memory extractions", "memory on"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// Two real nodes on one PostgreSQL and one NATS: every second tab is on
// the other node than its user's turns, and sees each turn end there;
// every conversation reads back whole from that other node.
func TestHarnessCluster(t *testing.T) {
	pgtest.Require(t)
	text := runLoad(t, "-nodes", "2", "-users", "6", "-duration", "3s", "-sse", "0.3", "-tabs", "0.5")
	head, rows := table(t, text)
	if len(rows) != 1 || rows[0]["users"] != "6" {
		t.Fatalf("want one row for 6 users:\n%s", text)
	}
	if !slices.Contains(head, "os1 CPU (2 nodes summed)") || !slices.Contains(head, "os1 RSS max per node") {
		t.Errorf("the header does not say which figures are summed: %q", head)
	}
	row := rows[0]
	checkRow(t, row, true, text)
	if num(t, row["os1 RSS max per node"]) < 1 || num(t, row["goroutines max (summed)"]) < 10 {
		t.Errorf("RSS %q, goroutines %q: figures missing", row["os1 RSS max per node"], row["goroutines max (summed)"])
	}
	if v := row["PostgreSQL + NATS CPU"]; v == "-" || num(t, v) <= 0 {
		t.Errorf("PostgreSQL + NATS CPU %q: the database worked, so it took CPU", v)
	}
	for _, want := range []string{"cluster: 2 nodes on one PostgreSQL 15", "node load-1 at", "node load-2 at"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// -until-break grows past the list while the target is met, making the
// accounts it needs on the way; -memory off starts os1 without memory, so
// the model is never asked to extract.
func TestHarnessUntilBreakMemoryOff(t *testing.T) {
	text := runLoad(t, "-users", "3", "-until-break", "-max-users", "8", "-target-p99", "20s", "-memory", "off",
		"-duration", "3s", "-sse", "0.3", "-tabs", "0.3")
	_, rows := table(t, text)
	if len(rows) != 2 || rows[0]["users"] != "3" || rows[1]["users"] != "8" {
		t.Fatalf("want steps of 3 and 8 users:\n%s", text)
	}
	for _, row := range rows {
		checkRow(t, row, false, text)
		if row["meets target"] != "yes" {
			t.Errorf("%s users: meets target %q (p99 ≤ 20 s, nothing failed)\n%s", row["users"], row["meets target"], text)
		}
	}
	for _, want := range []string{"before the 8-user step: made 5 more accounts",
		"largest N that met the target: 8 (no miss up to -max-users 8)", "memory off", " 0 memory extractions"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// The harness refuses what it cannot do, before it starts anything.
func TestFlagsRefused(t *testing.T) {
	base := options{memory: "on", nodes: 1, users: []int{100}, maxUsers: 20000, target: 50 * time.Millisecond,
		pace: modelPace{tps: 30, tokens: 150}}
	if err := base.check(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	for _, c := range []struct {
		change func(*options)
		want   string
	}{
		{func(o *options) { o.memory = "sometimes" }, "give on or off"},
		{func(o *options) { o.nodes = 0 }, "-nodes 0"},
		{func(o *options) { o.url, o.nodes = "http://x", 2 }, "with -url"},
		{func(o *options) { o.url, o.memory = "http://x", "off" }, "OS1_MEMORY=off"},
		{func(o *options) { o.untilBreak, o.maxUsers = true, 50 }, "-max-users 50 is below"},
		{func(o *options) { o.target = 0 }, "-target-p99"},
	} {
		o := base
		c.change(&o)
		if err := o.check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", o, err, c.want)
		}
	}
}

func fmtSscan(res *http.Response, v ...any) (int, error) {
	defer res.Body.Close()
	return fmt.Fscan(res.Body, v...)
}
