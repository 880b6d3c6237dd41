package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/secret"
)

// check is one line of the doctor's report.
type check struct {
	name string
	ok   bool
	warn bool // not fatal
	msg  string
	fix  string
}

func (e *env) doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check config, data dir, database and model connection, and say what to fix",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			checks := e.diagnose(ctx)
			failed, warned := 0, 0
			for _, c := range checks {
				mark := "ok  "
				switch {
				case !c.ok && c.warn:
					mark = "warn"
					warned++
				case !c.ok:
					mark = "FAIL"
					failed++
				}
				fmt.Fprintf(e.stdout, "[%s] %-10s %s\n", mark, c.name, c.msg)
				if !c.ok && c.fix != "" {
					fmt.Fprintf(e.stdout, "       fix: %s\n", c.fix)
				}
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d check(s) failed; see the fixes above", failed)}
			}
			if warned > 0 {
				fmt.Fprintf(e.stdout, "No check failed; %d warning(s) above.\n", warned)
				return nil
			}
			fmt.Fprintln(e.stdout, "All checks passed.")
			return nil
		},
	}
}

func (e *env) diagnose(ctx context.Context) []check {
	var out []check
	cfg, err := e.config()
	if err != nil {
		return append(out, check{name: "config", msg: err.Error(), fix: "correct the setting named above (config file, OS1_* variable or flag)"})
	}
	src := "built-in defaults and environment"
	if cfg.File != "" {
		src = cfg.File
	}
	out = append(out, check{name: "config", ok: true, msg: "loaded from " + src})
	out = append(out, voiceChecks(cfg.Voice, exec.LookPath)...)

	// Doctor looks; it never creates what it checks (a mistyped data dir
	// must say so, not become a new empty one).
	fresh := "run `os1 serve` once (it prints the setup link) or `os1 user add NAME --owner`, or point OS1_DATA_DIR at your data"
	dirInfo, err := os.Stat(cfg.DataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return append(out, check{name: "data dir", msg: cfg.DataDir + " does not exist", fix: fresh})
	case err != nil:
		return append(out, check{name: "data dir", msg: err.Error(), fix: "check the permissions of " + cfg.DataDir})
	case !dirInfo.IsDir():
		return append(out, check{name: "data dir", msg: cfg.DataDir + " is not a folder", fix: "point OS1_DATA_DIR at your data folder"})
	}
	if err := writableDir(cfg.DataDir); err != nil {
		return append(out, check{name: "data dir", msg: err.Error(),
			fix: "make it writable for this user, or choose another with OS1_DATA_DIR"})
	}
	if perm := dirInfo.Mode().Perm(); perm&0o077 != 0 {
		out = append(out, check{name: "data dir", warn: true, msg: fmt.Sprintf("%s is writable, but others on this machine may read it (mode %#o)", cfg.DataDir, perm),
			fix: "chmod 700 " + cfg.DataDir})
	} else {
		out = append(out, check{name: "data dir", ok: true, msg: cfg.DataDir + " is writable and private"})
	}

	dbChecks, db := databaseChecks(ctx, cfg, fresh)
	out = append(out, dbChecks...)
	out = append(out, clusterChecks(ctx, cfg)...)
	if db == nil {
		if !slices.ContainsFunc(out, func(c check) bool { return !c.ok && !c.warn }) {
			out = append(out, check{name: "skipped", warn: true,
				msg: "memory, embedding, secrets, model and server were not checked: the database is not ready (above)",
				fix: "start `os1 serve` once (it brings the database up to date), then run `os1 doctor` again"})
		}
		return out
	}
	defer db.Close()
	out = append(out, quarantineCheck(ctx, db))
	out = append(out, embedModelCheck(ctx, cfg, db))

	if _, err := os.Stat(cfg.KeyPath()); err != nil {
		return append(out, check{name: "secrets", msg: "no secret key at " + cfg.KeyPath() + " (saved API keys cannot be read without it)",
			fix: "restore it from your backup of the data dir; `os1 serve` makes a new one, and saved model keys must then be entered again"})
	}
	box, err := secret.LoadOrCreateKey(cfg.KeyPath())
	if err != nil {
		return append(out, check{name: "secrets", msg: err.Error(), fix: "chmod 600 " + cfg.KeyPath()})
	}
	switch known, matches, err := app.KeyMatchesDatabase(ctx, db.SQL(), box); {
	case err != nil:
		out = append(out, check{name: "secrets", warn: true, msg: cfg.KeyPath() + " is private (0600); whether it is the database's key is unknown: " + err.Error()})
	case known && !matches:
		return append(out, check{name: "secrets", msg: cfg.KeyPath() + " is not the key the database's secrets are sealed with; os1 serve refuses to start with it",
			fix: "copy secret.key from a node that works (or set [secrets] key_file / OS1_SECRET_KEY_FILE to the shared key file)"})
	case known:
		out = append(out, check{name: "secrets", ok: true, msg: cfg.KeyPath() + " is private (0600) and is the database's key"})
	default:
		out = append(out, check{name: "secrets", ok: true, msg: cfg.KeyPath() + " is private (0600); the database records no key yet (os1 serve records it)"})
	}

	mm := app.NewModels(db, box, cfg, clock.System{})
	st := mm.Refresh(ctx)
	if !st.Connected {
		out = append(out, check{name: "model", msg: st.Error, fix: models.HowToConnect})
	} else {
		msg := fmt.Sprintf("%s, model %s at %s (from %s)", st.Provider, st.Model, st.URL, st.Source)
		if names, err := mm.List(ctx); err != nil {
			out = append(out, check{name: "model", msg: msg + " does not answer: " + err.Error(),
				fix: "start the model server, check the URL and API key (OS1_LLM_URL, OS1_LLM_KEY), or save a working connection in Settings → Model"})
		} else {
			out = append(out, listedModelCheck(ctx, mm, st.Provider, st.Model, msg, names))
		}
	}

	url := cfg.BaseURL() + "/healthz"
	hc := &http.Client{Timeout: 2 * time.Second}
	if resp, err := hc.Get(url); err != nil {
		out = append(out, check{name: "server", warn: true, msg: "no os1 server answers at " + cfg.BaseURL(), fix: "start it with `os1 serve` (or `make run`)"})
	} else {
		resp.Body.Close()
		out = append(out, check{name: "server", ok: resp.StatusCode == http.StatusOK, msg: fmt.Sprintf("%s answers %s", url, resp.Status),
			fix: "read the server's log for the database error"})
	}
	return out
}

// quarantineCheck warns about records memory's worker gave up on after
// repeated panics (internal/memory/quarantine.go).
func quarantineCheck(ctx context.Context, db app.DB) check {
	q, err := memory.Quarantined(ctx, sqlitemem.NewProgressFor(db), "")
	switch {
	case err != nil:
		return check{name: "memory", warn: true, msg: err.Error()}
	case len(q) == 0:
		return check{name: "memory", ok: true, msg: "no quarantined records"}
	}
	var names []string
	for _, f := range q {
		names = append(names, fmt.Sprintf("%s %s of user %s (%d panics, last: %s)", f.Kind, f.ID, f.UserID, f.Count, f.Error))
	}
	return check{name: "memory", warn: true, msg: fmt.Sprintf("%d record(s) quarantined after repeated panics, skipped: %s", len(q), strings.Join(names, "; ")),
		fix: "the server log has each panic's stack; report it, and delete or export the conversation to see what it holds"}
}

func writableDir(dir string) error {
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s is not writable: %w", dir, pe.Err)
		}
		return err
	}
	f.Close()
	return os.Remove(filepath.Clean(f.Name()))
}

// listedModelCheck judges a model server's list against the configured
// model. A name missing from the list is not yet a fault: llama-server lists
// the file it loaded ("tiny.gguf") unless started with --alias, and answers
// every request with that one model. So doctor asks for one token with the
// configured name and reports what the server really does with it.
func listedModelCheck(ctx context.Context, mm *models.Manager, provider, model, msg string, names []string) check {
	if len(names) == 0 || slices.Contains(names, model) {
		return check{name: "model", ok: true, msg: msg + " answers"}
	}
	err := chatProbe(ctx, mm, model)
	// llama-server without --alias lists the model's file name.
	fileName := len(names) == 1 && strings.HasSuffix(strings.ToLower(names[0]), ".gguf")
	switch {
	case err == nil && len(names) == 1:
		c := check{name: "model", ok: true, msg: fmt.Sprintf("%s answers; it serves one model, %q, and uses it for %q", msg, names[0], model)}
		if fileName {
			c.msg += fmt.Sprintf(" (start llama-server with --alias %s to list it under that name)", model)
		}
		return c
	case err == nil:
		return check{name: "model", warn: true, msg: fmt.Sprintf("%s answers requests for %q, but does not list it (it has: %s)", msg, model, strings.Join(names, ", ")),
			fix: "set OS1_LLM_MODEL to one of the listed models, so it is clear which one answers"}
	}
	fix := "set OS1_LLM_MODEL to one of the listed models"
	if fileName {
		fix = fmt.Sprintf("start llama-server with --alias %s, or %s", model, fix)
	}
	return check{name: "model", msg: fmt.Sprintf("%s answers, but does not list model %q (it has: %s), and a test request for it failed: %v", provider, model, strings.Join(names, ", "), err),
		fix: fix}
}

// chatProbe asks the connected model for one token of a reply, as model.
func chatProbe(ctx context.Context, mm *models.Manager, model string) error {
	p, err := mm.Provider(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, err := range p.Stream(ctx, llm.Request{Model: model, MaxTokens: 1,
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Say hello."}}}) {
		if err != nil {
			return err
		}
	}
	return nil
}
