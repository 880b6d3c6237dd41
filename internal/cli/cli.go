// Package cli implements the os1 command line (serve, chat, login, doctor, memory,
// version) with cobra. It parses flags, calls internal/app, which builds the
// program, and talks to users; it holds no domain logic or wiring of its own
// and must never print a secret.
package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/os1ai/os1/internal/config"
)

// Version is set at build time with -ldflags "-X github.com/os1ai/os1/internal/cli.Version=…".
var Version = "dev"

// env is how the command line reads the environment (injected for tests).
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	flags  config.Flags
	lines  *bufio.Scanner // stdin, read line by line
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// Main runs the command line and returns the process exit status.
func Main(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	root := e.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "os1:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

// rootCmd builds the command tree. Only --config is global: each other
// setting's flag sits on the commands that use it.
func (e *env) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "os1",
		Short:         "os1 — an operating system you talk to",
		Long:          "os1 is a self-hosted AI companion. Start it with `os1 serve`, then open the printed link.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.flags.ConfigFile, "config", "", "config file (default $XDG_CONFIG_HOME/os1/config.toml, or $OS1_CONFIG)")
	serve, doctor, talk := e.serveCmd(), e.doctorCmd(), e.talkCmd()
	memory, user, token, mailc := e.memoryCmd(), e.userCmd(), e.tokenCmd(), e.mailCmd()
	for _, c := range []*cobra.Command{serve, doctor, talk} {
		e.dataDirFlag(c.Flags())
	}
	for _, c := range []*cobra.Command{memory, user, token} {
		e.dataDirFlag(c.PersistentFlags())
	}
	// The listen address makes the links that serve, doctor and the user
	// commands print; chat and login find their server with --server.
	e.addrFlag(serve.Flags())
	e.addrFlag(doctor.Flags())
	for _, c := range user.Commands() {
		if c.Name() == "add" || c.Name() == "reset-password" {
			e.addrFlag(c.Flags())
		}
	}
	for _, c := range []*cobra.Command{serve, talk} {
		c.Flags().StringVar(&e.flags.LogLevel, "log-level", "", "debug, info, warn or error (default info, or $OS1_LOG_LEVEL)")
	}
	root.AddCommand(serve, e.chatCmd(), e.loginCmd(), e.logoutCmd(), doctor, e.versionCmd(), memory, talk, user, token, mailc)
	root.AddCommand(e.remindersCmd())
	root.AddCommand(e.calendarCmd())
	root.AddCommand(e.contactsCmd())
	root.AddCommand(e.docsCmd())
	root.AddCommand(e.migrateCmd())
	root.InitDefaultCompletionCmd() // now, so that its group is checked too
	refuseUnknownSubcommands(root)
	explainArgs(root)
	return root
}

// explainArgs adds the command's usage line to cobra's terse answer to a
// wrong number of arguments ("accepts 1 arg(s), received 0").
func explainArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		explainArgs(sub)
	}
	if c.Args == nil || !c.Runnable() || c.HasSubCommands() {
		return
	}
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return fmt.Errorf("%w.\nUsage: %s (see '%s --help')", err, cmd.UseLine(), cmd.CommandPath())
		}
		return nil
	}
}

// countOf is "1 event", "2 events": n of a noun whose plural adds an s.
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (e *env) dataDirFlag(f *pflag.FlagSet) {
	f.StringVar(&e.flags.DataDir, "data-dir", "", "data directory (default $XDG_DATA_HOME/os1, or $OS1_DATA_DIR)")
}

func (e *env) addrFlag(f *pflag.FlagSet) {
	f.StringVar(&e.flags.Addr, "addr", "", "listen address host:port (default 127.0.0.1:7810, or $OS1_ADDR)")
}

// refuseUnknownSubcommands makes every command group below the root fail
// on a word that is none of its subcommands, with cobra's suggestions, as
// the root does: without a Run, cobra prints the group's help and exits 0.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	c.SuggestionsMinimumDistance = 2 // cobra's default, which only the root gets by itself
	if !c.HasParent() || !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return errors.New(msg + "\n\nRun '" + cmd.CommandPath() + " --help' for its commands.")
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

func (e *env) config() (config.Config, error) {
	return config.Load(e.getenv, e.flags)
}

func (e *env) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rev := ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" && len(s.Value) >= 12 {
						rev = " (" + s.Value[:12] + ")"
					}
				}
			}
			fmt.Fprintf(e.stdout, "os1 %s%s %s %s/%s\n", Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
