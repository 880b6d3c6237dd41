package cli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/cluster"
	"github.com/os1ai/os1/internal/cluster/natstest"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
)

// doctorInstall is a data dir with an owner and a working model, so that
// doctor's only findings are the ones a test makes.
func doctorInstall(t *testing.T) map[string]string {
	t.Helper()
	env := freshInstall(t)
	ls := llmtest.NewServer(t)
	ls.SetModels("test")
	env["OS1_LLM_URL"], env["OS1_LLM_MODEL"] = ls.OpenAIBaseURL(), "test"
	env["OS1_ADDR"] = "127.0.0.1:1" // no server: a warning
	if code, out, errOut := runWith(env, "correct horse\n", "user", "add", "theo", "--owner", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s%s", code, out, errOut)
	}
	// os1 serve makes the key; user add does not.
	if _, err := secret.LoadOrCreateKey(filepath.Join(env["OS1_DATA_DIR"], "secret.key")); err != nil {
		t.Fatal(err)
	}
	return env
}

// With a NATS URL doctor names the node and checks NATS, JetStream, the
// jobs stream and the turn claims, as os1 serve makes and uses them.
func TestDoctorCluster(t *testing.T) {
	env := doctorInstall(t)
	nurl := natstest.Start(t, true)
	env["OS1_DATABASE_URL"] = pgtest.New(t)
	db, err := postgres.Open(context.Background(), env["OS1_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	env["OS1_NATS_URL"], env["OS1_NODE_NAME"] = nurl, "node-a"

	// Before any os1 serve: the stream and the bucket are not there yet.
	code, out, _ := runWith(env, "", "doctor")
	t.Logf("doctor, fresh NATS:\n%s", out)
	wantLines(t, out,
		[2]string{"[ok  ] cluster", `on; this node is "node-a"`},
		[2]string{"[ok  ] nats", "NATS 2."},
		[2]string{"[ok  ] nats", "JetStream on"},
		[2]string{"[ok  ] jobs", "stream OS1_JOBS not made yet: the first `os1 serve`"},
		[2]string{"[ok  ] turns", "claims bucket OS1_TURNS not made yet: the first `os1 serve`"})
	if code != 0 || strings.Contains(out, "SQLite") {
		t.Fatalf("doctor on a good cluster setup: exit %d\n%s", code, out)
	}

	// As a node made them: two jobs waiting, one turn running.
	nc, err := cluster.Connect(nurl, "test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	jobs, err := cluster.OpenJobs(ctx, nc, cluster.JobsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2"} {
		if err := jobs.Enqueue(ctx, "memory", id, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	turns, err := cluster.OpenTurns(ctx, nc, cluster.TurnsOptions{TTL: 30 * time.Second, Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer turns.Close()
	release, err := turns.Claim(ctx, "u1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	code, out, _ = runWith(env, "", "doctor")
	t.Logf("doctor, after a node:\n%s", out)
	wantLines(t, out,
		[2]string{"[ok  ] jobs", "stream OS1_JOBS: 2 job(s) pending, 0 being worked on"},
		[2]string{"[ok  ] turns", "claims bucket OS1_TURNS: 1 turn(s) running, claims expire after 30s"})
	if code != 0 {
		t.Fatalf("doctor: exit %d\n%s", code, out)
	}

	// A node with another stale_after than the bucket's expiry: warned.
	env["OS1_CLUSTER_STALE_AFTER"] = "10s"
	code, out, _ = runWith(env, "", "doctor")
	wantLines(t, out, [2]string{"[warn] turns", "but this node's stale_after is 10s"}, [2]string{"       fix:", "same [cluster] stale_after"})
	if code != 0 {
		t.Fatalf("a warning failed doctor: exit %d\n%s", code, out)
	}
}

// A NATS URL on SQLite is warned about; NATS without JetStream and a URL
// where nothing listens fail, with the URL's password never shown.
func TestDoctorClusterProblems(t *testing.T) {
	env := doctorInstall(t)
	env["OS1_NATS_URL"] = natstest.Start(t, true)
	code, out, _ := runWith(env, "", "doctor")
	host, _ := os.Hostname()
	wantLines(t, out,
		[2]string{"[ok  ] cluster", "on; this node is " + host + "-<pid of os1 serve>"},
		[2]string{"[warn] cluster", "nats_url is set but the database is SQLite"},
		[2]string{"[warn] cluster", "a cluster needs PostgreSQL"},
		[2]string{"       fix:", "set [database] url (OS1_DATABASE_URL)"},
		[2]string{"[ok  ] nats", "JetStream on"})
	if code != 0 {
		t.Fatalf("a warning failed doctor: exit %d\n%s", code, out)
	}

	env["OS1_NATS_URL"] = natstest.Start(t, false)
	code, out, _ = runWith(env, "", "doctor")
	wantLines(t, out, [2]string{"[FAIL] nats", "JetStream is off"}, [2]string{"       fix:", "nats-server with -js"})
	if code != 1 {
		t.Fatalf("doctor without JetStream: exit %d\n%s", code, out)
	}

	const secret = "n4ts-secret"
	env["OS1_NATS_URL"] = "nats://os1:" + secret + "@127.0.0.1:1"
	code, out, _ = runWith(env, "", "doctor")
	wantLines(t, out, [2]string{"[FAIL] nats", "no NATS server answers at nats://os1:xxxxx@127.0.0.1:1"},
		[2]string{"       fix:", "start nats-server with JetStream"})
	if code != 1 || strings.Contains(out, secret) {
		t.Fatalf("doctor with NATS unreachable: exit %d\n%s", code, out)
	}
	// A token (a user part without a password) is hidden too.
	env["OS1_NATS_URL"] = "nats://" + secret + "@127.0.0.1:1"
	if _, out, _ = runWith(env, "", "doctor"); strings.Contains(out, secret) || !strings.Contains(out, "nats://xxxxx@127.0.0.1:1") {
		t.Fatalf("doctor showed the NATS token:\n%s", out)
	}
}

// Doctor compares the node's key with the one the database records: no
// record yet, the same key, another key (which os1 serve would refuse).
func TestDoctorSecretKeyAgainstTheDatabase(t *testing.T) {
	env := doctorInstall(t)
	_, out, _ := runWith(env, "", "doctor")
	wantLines(t, out, [2]string{"[ok  ] secrets", "the database records no key yet"})

	cfg, err := config.Load(func(k string) string { return env[k] }, config.Flags{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := app.OpenDB(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.OpenSecrets(context.Background(), cfg, db); err != nil { // as os1 serve does
		t.Fatal(err)
	}
	db.Close()
	_, out, _ = runWith(env, "", "doctor")
	wantLines(t, out, [2]string{"[ok  ] secrets", "is the database's key"})

	key := filepath.Join(env["OS1_DATA_DIR"], "secret.key")
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	if _, err := secret.LoadOrCreateKey(key); err != nil { // another node's own key
		t.Fatal(err)
	}
	code, out, _ := runWith(env, "", "doctor")
	wantLines(t, out, [2]string{"[FAIL] secrets", "is not the key the database's secrets are sealed with"},
		[2]string{"       fix:", "copy secret.key from a node that works"})
	if code != 1 {
		t.Errorf("doctor exited %d with another key, want 1", code)
	}
}
