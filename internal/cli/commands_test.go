package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// allCommands walks the command tree as Main builds it.
func allCommands() []*cobra.Command {
	e := &env{getenv: func(string) string { return "" }}
	var out []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		out = append(out, c)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(e.rootCmd())
	return out
}

func runMain(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(args, func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// pflag shows a backticked word in a flag's help as its placeholder
// (`--token os1 login` instead of `--token string`), so help text says
// commands without backticks.
func TestNoBackticksInFlagHelp(t *testing.T) {
	for _, c := range allCommands() {
		for _, fs := range []*pflag.FlagSet{c.LocalNonPersistentFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if strings.Contains(f.Usage, "`") {
					t.Errorf("%s --%s: help has a backtick: %q", c.CommandPath(), f.Name, f.Usage)
				}
			})
		}
	}
	code, out, _ := runMain("chat", "--help")
	if code != 0 || !strings.Contains(out, "--token string") || !strings.Contains(out, "--server string") {
		t.Fatalf("chat --help: %d\n%s", code, out)
	}
}

// Every command group refuses a mistyped subcommand with a suggestion, as
// the root does, and still shows its help when given none.
func TestMistypedSubcommandSuggests(t *testing.T) {
	groups := 0
	for _, c := range allCommands() {
		if !c.HasAvailableSubCommands() {
			continue
		}
		groups++
		var sub *cobra.Command
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() && len(s.Name()) > 2 {
				sub = s
				break
			}
		}
		if sub == nil {
			continue
		}
		typo := sub.Name()[:len(sub.Name())-1] + "q"
		path := strings.Fields(c.CommandPath())[1:]
		code, _, stderr := runMain(append(path, typo)...)
		if code != 1 || !strings.Contains(stderr, "unknown command \""+typo+"\"") || !strings.Contains(stderr, "Did you mean this?\n\t"+sub.Name()) {
			t.Errorf("%s %s: %d %q", c.CommandPath(), typo, code, stderr)
		}
		if code, _, stderr := runMain(append(path, "zzzzzzzz")...); code != 1 || !strings.Contains(stderr, "unknown command") || strings.Contains(stderr, "Did you mean") {
			t.Errorf("%s zzzzzzzz: %d %q", c.CommandPath(), code, stderr)
		}
		if code, out, _ := runMain(path...); code != 0 || !strings.Contains(out, sub.Name()) {
			t.Errorf("%s alone: %d, want its help\n%s", c.CommandPath(), code, out)
		}
	}
	if groups < 4 { // os1, memory, user, token, completion
		t.Fatalf("only %d command groups found", groups)
	}
}

// Settings' flags sit on the commands that use them; only --config is global.
func TestFlagsOnlyWhereUsed(t *testing.T) {
	want := map[string][]string{
		"addr":      {"os1 serve", "os1 doctor", "os1 user add", "os1 user reset-password"},
		"log-level": {"os1 serve", "os1 talk"},
	}
	for flag, on := range want {
		for _, c := range allCommands() {
			has := c.Flags().Lookup(flag) != nil || c.InheritedFlags().Lookup(flag) != nil
			should := false
			for _, p := range on {
				should = should || c.CommandPath() == p
			}
			if has != should {
				t.Errorf("%s has --%s: %v, want %v", c.CommandPath(), flag, has, should)
			}
		}
	}
	for _, c := range allCommands() {
		dd := c.Flags().Lookup("data-dir") != nil || c.InheritedFlags().Lookup("data-dir") != nil
		client := strings.HasPrefix(c.CommandPath(), "os1 chat") || strings.HasPrefix(c.CommandPath(), "os1 login") || strings.HasPrefix(c.CommandPath(), "os1 logout")
		if dd && client {
			t.Errorf("%s has --data-dir, which it never reads", c.CommandPath())
		}
		if c.InheritedFlags().Lookup("config") == nil && c.HasParent() {
			t.Errorf("%s lacks the global --config", c.CommandPath())
		}
	}
	if code, _, stderr := runMain("chat", "--addr", "127.0.0.1:1", "-m", "hi"); code != 1 || !strings.Contains(stderr, "unknown flag: --addr") {
		t.Fatalf("chat --addr: %d %q", code, stderr)
	}
}

// A flag before the subcommand still reaches it, as when it was global.
func TestFlagBeforeSubcommand(t *testing.T) {
	r := startApp(t)
	dir := r.env["OS1_DATA_DIR"]
	delete(r.env, "OS1_DATA_DIR")
	if _, out, _ := r.run("", "user", "list"); strings.Contains(out, "theo") {
		t.Fatalf("user list without the data dir found theo:\n%s", out)
	}
	code, out, stderr := r.run("", "--data-dir", dir, "user", "list")
	if code != 0 || !strings.Contains(out, "theo") {
		t.Fatalf("os1 --data-dir D user list: %d %q %q", code, out, stderr)
	}
}
