package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/accounts"
	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/store"
)

// userAddManyCmd is `os1 user add-many`: many member accounts at once, each
// with an API token, for load tests (bench/load) and trials. It works on
// the data dir only (whoever may write it is the owner of the server), so
// it needs no HTTP route. The accounts have no password anyone knows: one
// random password is hashed once and thrown away (argon2id per account
// would take minutes for thousands); `os1 user reset-password NAME` gives one a
// password.
func (e *env) userAddManyCmd() *cobra.Command {
	var prefix, tokensPath, tokenName string
	var count, start int
	cmd := &cobra.Command{
		Use:   "add-many --prefix P --count N --tokens FILE",
		Short: "Create N member accounts P1…PN, each with an API token written to FILE (for load tests)",
		Long: "Creates members named PREFIX+number (from --start), each with an API token; FILE gets one line per\n" +
			"account, `username<TAB>token`, and is written with mode 0600. The accounts have no known password\n" +
			"(`os1 user reset-password NAME` gives one). The server must have an owner already (`os1 user add NAME --owner`).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if count < 1 || count > 100000 {
				return errors.New("--count must be 1 to 100000")
			}
			if start < 0 {
				return errors.New("--start must not be negative")
			}
			if tokensPath == "" {
				return errors.New("say where the tokens go: --tokens FILE")
			}
			// Names are checked before anything is written.
			for _, i := range []int{start, start + count - 1} {
				n := accounts.NewUser{Username: fmt.Sprintf("%s%d", prefix, i), PasswordHash: "x", Role: store.RoleMember}
				if err := n.Check(); err != nil {
					return accountErr(err)
				}
			}
			a, err := e.openAccounts(ctx, false, "")
			if err != nil {
				return err
			}
			defer a.close()
			users, err := a.acc.Store.ListUsers(ctx)
			if err != nil {
				return err
			}
			if len(users) == 0 {
				return errors.New("this server has no owner yet: `os1 user add NAME --owner` first")
			}
			hash, err := auth.HashPassword(clock.Token(32)) // nobody keeps it
			if err != nil {
				return err
			}
			f, err := os.OpenFile(tokensPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("tokens file: %w (it must not exist yet)", err)
			}
			w := bufio.NewWriter(f)
			made := 0
			for i := start; i < start+count; i++ {
				if err := ctx.Err(); err != nil {
					break
				}
				// The accounts package's rules (Check), without its per-call
				// list of every user: this makes thousands.
				n := accounts.NewUser{Username: fmt.Sprintf("%s%d", prefix, i), PasswordHash: hash, Role: store.RoleMember}
				err := n.Check()
				u := store.User{ID: clock.NewID("usr_"), Username: n.Username, DisplayName: n.DisplayName, Role: n.Role,
					PasswordHash: hash, CreatedAt: a.acc.Clock.Now()}
				if err == nil {
					err = a.acc.Store.CreateUser(ctx, u)
				}
				if errors.Is(err, store.ErrConflict) {
					err = fmt.Errorf("the username %q is taken", n.Username)
				}
				if err != nil {
					err = accountErr(err)
					w.Flush()
					f.Close()
					return fmt.Errorf("after %d accounts: %w", made, err)
				}
				_, secret, err := a.acc.CreateToken(ctx, u.ID, tokenName)
				if err != nil {
					w.Flush()
					f.Close()
					return fmt.Errorf("after %d accounts: %w", made, err)
				}
				fmt.Fprintf(w, "%s\t%s\n", u.Username, secret)
				made++
			}
			if err := w.Flush(); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Created %d members (%s%d…%s%d); their tokens are in %s\n", made, prefix, start, prefix, start+count-1, tokensPath)
			return ctx.Err()
		},
	}
	f := cmd.Flags()
	f.StringVar(&prefix, "prefix", "u", "username prefix; the number follows")
	f.IntVar(&count, "count", 0, "how many accounts")
	f.IntVar(&start, "start", 1, "first number")
	f.StringVar(&tokensPath, "tokens", "", "file to write 'username<TAB>token' lines to (must not exist)")
	f.StringVar(&tokenName, "token-name", "load", "name of each token (shown in Settings)")
	return cmd
}
