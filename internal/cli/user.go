package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/os1ai/os1/internal/accounts"
	"github.com/os1ai/os1/internal/datadir"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
)

// `os1 user …` and `os1 token create` manage accounts on the data dir
// directly, like `os1 memory`, so a headless server can be set up and
// looked after without a browser. The rules are the accounts package's,
// the same as the web UI's.

func (e *env) userCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add, list, disable, enable, delete users and reset passwords (works on the data dir)",
		Long: "Works directly on the data directory (like `os1 memory`); `os1 user add NAME --owner` also works on a\n" +
			"fresh install, before `os1 serve` ever ran. Disabling, deleting and setting a password wait for a running\n" +
			"server to stop (it holds their connections); the web UI's Settings → Members does them live.",
	}
	cmd.AddCommand(e.userAddCmd(), e.userAddManyCmd(), e.userListCmd(), e.userDisableCmd(true), e.userDisableCmd(false),
		e.userDeleteCmd(), e.userResetCmd())
	return cmd
}

// accountsEnv is an opened data dir with the accounts service over it.
type accountsEnv struct {
	*memEnv
	acc *accounts.Service
}

// openAccounts opens the data dir; lockFor, when set, takes its lock first
// for a command that must not change accounts behind a running server.
func (e *env) openAccounts(ctx context.Context, create bool, lockFor string) (*accountsEnv, error) {
	var lock *datadir.Lock
	if lockFor != "" {
		l, err := e.lockDataDir(lockFor)
		if err != nil {
			return nil, err
		}
		lock = l
	}
	m, err := e.openDataDir(ctx, create)
	if err != nil {
		lock.Release()
		return nil, err
	}
	m.lock = lock
	return &accountsEnv{memEnv: m, acc: accounts.New(m.db, m.clock, m.mem)}, nil
}

// openUser opens the data dir (locked for lockFor, when set) and finds the
// user called name; the caller closes the env.
func (e *env) openUser(ctx context.Context, name, lockFor string) (*accountsEnv, store.User, error) {
	a, err := e.openAccounts(ctx, false, lockFor)
	if err != nil {
		return nil, store.User{}, err
	}
	u, err := a.find(ctx, name)
	if err != nil {
		a.close()
		return nil, store.User{}, err
	}
	return a, u, nil
}

func (a *accountsEnv) find(ctx context.Context, name string) (store.User, error) {
	u, err := a.acc.Find(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no user %q in %s; `os1 user list` shows who there is", name, a.cfg.DataDir)
	}
	return u, err
}

// accountErr words the accounts package's errors for the command line.
func accountErr(err error) error {
	switch {
	case errors.Is(err, accounts.ErrInvalid):
		return errors.New(strings.TrimPrefix(err.Error(), accounts.ErrInvalid.Error()+": "))
	case errors.Is(err, accounts.ErrSelf):
		return errors.New("the owner's account cannot be disabled or deleted")
	}
	return err
}

// readNewPassword reads a new password: twice, unechoed, on a terminal;
// otherwise one line of standard input.
func (e *env) readNewPassword(fromStdin bool) (string, error) {
	f, ok := e.stdin.(*os.File)
	if !ok || fromStdin || !term.IsTerminal(int(f.Fd())) {
		line, ok := e.readLine()
		if !ok {
			return "", errors.New("no password given on standard input")
		}
		return line, nil
	}
	var pw [2]string
	for i, prompt := range []string{"New password: ", "Again: "} {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		pw[i] = string(b)
	}
	if pw[0] != pw[1] {
		return "", errors.New("the two passwords differ; nothing was changed")
	}
	return pw[0], nil
}

func (e *env) userAddCmd() *cobra.Command {
	var owner, passwordStdin bool
	var displayName string
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Create an account (the first one with --owner; creates the database on a fresh install)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := e.openAccounts(ctx, true, "")
			if err != nil {
				return err
			}
			defer a.close()
			password, err := e.readNewPassword(passwordStdin)
			if err != nil {
				return err
			}
			role := store.RoleMember
			if owner {
				role = store.RoleOwner
			}
			u, err := a.acc.Create(ctx, accounts.NewUser{Username: args[0], DisplayName: displayName, Password: password, Role: role})
			if err != nil {
				return accountErr(err)
			}
			fmt.Fprintf(e.stdout, "Created %s %s. Sign in at %s\n", u.Role, u.Username, a.cfg.BaseURL())
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&owner, "owner", false, "make the owner (the first account; replaces the setup link)")
	f.StringVar(&displayName, "display-name", "", "name shown in the UI (default: the username)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

func (e *env) userListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List accounts with role, status, creation and last use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := e.openAccounts(cmd.Context(), false, "")
			if err != nil {
				return err
			}
			defer a.close()
			list, err := a.acc.List(cmd.Context())
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(e.stdout, "No users yet: `os1 user add NAME --owner` makes the owner.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tCREATED\tLAST SEEN")
			for _, s := range list {
				status := "active"
				if !s.DisabledAt.IsZero() {
					status = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Username, s.Role, status, day(s.CreatedAt), when(s.LastSeen))
			}
			return tw.Flush()
		},
	}
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02")
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func (e *env) userDisableCmd(disable bool) *cobra.Command {
	use, short := "enable NAME", "Let a disabled user sign in again"
	if disable {
		use, short = "disable NAME", "Stop a user from signing in or using tokens, and end their sessions"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			lockFor := ""
			if disable {
				lockFor = "os1 user disable"
			}
			a, u, err := e.openUser(ctx, args[0], lockFor)
			if err != nil {
				return err
			}
			defer a.close()
			if disable {
				if _, err := a.acc.Disable(ctx, "", u.ID); err != nil {
					return accountErr(err)
				}
				fmt.Fprintf(e.stdout, "Disabled %s; their sessions are ended and their tokens stop working until `os1 user enable %s`.\n", u.Username, u.Username)
				return nil
			}
			if err := a.acc.Enable(ctx, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Enabled %s.\n", u.Username)
			return nil
		},
	}
}

func (e *env) userDeleteCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user and all their data: conversations, memory, persona, sessions, tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, u, err := e.openUser(ctx, args[0], "os1 user delete")
			if err != nil {
				return err
			}
			defer a.close()
			if u.Role == store.RoleOwner {
				return accountErr(accounts.ErrSelf)
			}
			if !yes {
				fmt.Fprintf(e.stderr, "This deletes %s and everything of theirs for good: conversations, memory, persona, sessions and tokens.\nType the username to confirm: ", u.Username)
				line, _ := e.readLine()
				if strings.TrimSpace(line) != u.Username {
					return &exitError{code: 1, err: errors.New("not confirmed; nothing was deleted (--yes skips the question)")}
				}
			}
			if err := a.acc.Delete(ctx, "", u.ID); err != nil {
				return accountErr(err)
			}
			fmt.Fprintf(e.stdout, "Deleted %s and all their data.\n", u.Username)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func (e *env) userResetCmd() *cobra.Command {
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "reset-password NAME",
		Short: "Print a one-time link that sets the user's password (or set it now with --password-stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			lockFor := ""
			if passwordStdin {
				lockFor = "os1 user reset-password"
			}
			a, u, err := e.openUser(ctx, args[0], lockFor)
			if err != nil {
				return err
			}
			defer a.close()
			if passwordStdin {
				password, err := e.readNewPassword(true)
				if err != nil {
					return err
				}
				if _, err := a.acc.SetPassword(ctx, u.ID, password, ""); err != nil {
					return accountErr(err)
				}
				fmt.Fprintf(e.stdout, "Set the password of %s; their sessions are ended.\n", u.Username)
				return nil
			}
			token, exp, err := a.acc.ResetLink(ctx, "", u.ID)
			if err != nil {
				return accountErr(err)
			}
			fmt.Fprintf(e.stdout, "Give %s this one-time link to choose a new password (valid until %s):\n\n    %s\n\n",
				u.Username, when(exp), server.ResetURL(a.cfg.BaseURL(), token))
			return nil
		},
	}
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "set the password now, read from standard input")
	return cmd
}

func (e *env) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make API tokens for scripts and `os1 chat` (works on the data dir)",
	}
	var username, name string
	create := &cobra.Command{
		Use:   "create --user NAME",
		Short: "Create an API token for a user and print it once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if username == "" {
				return errors.New("say whose token it is: --user NAME")
			}
			a, u, err := e.openUser(ctx, username, "")
			if err != nil {
				return err
			}
			defer a.close()
			_, secret, err := a.acc.CreateToken(ctx, u.ID, name)
			if err != nil {
				return accountErr(err)
			}
			fmt.Fprintln(e.stderr, "This token is shown once; keep it secret (Authorization: Bearer …, or `os1 chat` with OS1_TOKEN):")
			fmt.Fprintln(e.stdout, secret)
			return nil
		},
	}
	create.Flags().StringVar(&username, "user", "", "username the token acts as")
	create.Flags().StringVar(&name, "name", "cli", "a name to recognise the token by in Settings")
	cmd.AddCommand(create)
	return cmd
}
