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

	"github.com/spf13/cobra"

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
	root := &cobra.Command{
		Use:           "os1",
		Short:         "os1 — an operating system you talk to",
		Long:          "os1 is a self-hosted AI companion. Start it with `os1 serve`, then open the printed link.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&e.flags.ConfigFile, "config", "", "config file (default $XDG_CONFIG_HOME/os1/config.toml, or $OS1_CONFIG)")
	pf.StringVar(&e.flags.DataDir, "data-dir", "", "data directory (default $XDG_DATA_HOME/os1, or $OS1_DATA_DIR)")
	pf.StringVar(&e.flags.Addr, "addr", "", "listen address host:port (default 127.0.0.1:7810, or $OS1_ADDR)")
	pf.StringVar(&e.flags.LogLevel, "log-level", "", "debug, info, warn or error (default info, or $OS1_LOG_LEVEL)")
	root.AddCommand(e.serveCmd(), e.chatCmd(), e.loginCmd(), e.doctorCmd(), e.versionCmd(), e.memoryCmd(), e.talkCmd(),
		e.userCmd(), e.tokenCmd())
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
