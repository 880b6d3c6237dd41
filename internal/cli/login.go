package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/os1ai/os1/internal/config"
)

func (e *env) loginCmd() *cobra.Command {
	var server, name, username string
	var passwordStdin, list bool
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to an os1 server and save an API token for os1 chat",
		Long: "Signs in with your password and saves an API token in the credentials file (mode 0600).\n" +
			"Each login has a name (--name, default the server's host:port); the most recent login is the\n" +
			"server os1 chat talks to, and --server NAME picks another. Without a scheme, --server is taken\n" +
			"as http:// only for this machine (localhost:7810); other hosts need http:// or https://.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			path := config.CredentialsPath(e.getenv)
			creds, err := loadCredentials(path)
			if err != nil {
				return err
			}
			if list {
				e.listLogins(creds)
				return nil
			}
			if server != "" {
				cfg.Client.Server = server
			}
			cfg.Client.Token = ""
			t, err := e.target(cfg, creds)
			if err != nil {
				return err
			}
			if name == "" {
				name = t.name
			}
			if name == "" {
				name = defaultLoginName(t.url)
				if l, taken := creds.Servers[name]; taken && l.URL != t.url {
					return fmt.Errorf("a saved login named %q is for %s: choose another name with --name", name, l.URL)
				}
			}
			if err := checkLoginName(name); err != nil {
				return err
			}
			if username == "" {
				fmt.Fprint(e.stderr, "Username: ")
				line, ok := e.readLine()
				if !ok {
					return errors.New("no username given")
				}
				username = strings.TrimSpace(line)
			}
			password, err := e.readPassword(passwordStdin)
			if err != nil {
				return err
			}
			tok, err := login(cmd.Context(), t.url, username, password)
			if err != nil {
				return err
			}
			creds.Servers[name] = savedLogin{URL: t.url, Username: username, Token: tok.Token, TokenID: tok.ID, SavedAt: time.Now().UTC()}
			creds.Current = name
			if err := saveCredentials(path, creds); err != nil {
				return fmt.Errorf("save the token: %w", err)
			}
			fmt.Fprintf(e.stdout, "Signed in to %s as %s, saved as %q in %s. os1 chat talks to it now; --server %s picks it later.\n",
				t.url, username, name, path, name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "server URL or saved login name (default $OS1_SERVER, the config, the most recent login, or http://127.0.0.1:7810)")
	f.StringVar(&name, "name", "", "name to save this login under, for --server NAME (default the server's host:port)")
	f.StringVarP(&username, "username", "u", "", "username")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	f.BoolVar(&list, "list", false, "list the saved logins and exit")
	return cmd
}

func (e *env) listLogins(creds credentials) {
	if len(creds.Servers) == 0 {
		fmt.Fprintln(e.stderr, "No saved logins: run os1 login --server URL.")
		return
	}
	names := make([]string, 0, len(creds.Servers))
	for n := range creds.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l := creds.Servers[n]
		mark := " "
		if n == creds.Current {
			mark = "*"
		}
		fmt.Fprintf(e.stdout, "%s %-20s %-32s %s\n", mark, n, l.URL, l.Username)
	}
}

func (e *env) logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout [NAME|URL]",
		Short: "Revoke and forget a saved login (default: the most recent)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := config.CredentialsPath(e.getenv)
			creds, err := loadCredentials(path)
			if err != nil {
				return err
			}
			name := creds.Current
			if len(args) == 1 {
				name = args[0]
				if _, ok := creds.Servers[name]; !ok {
					n, _, found := creds.byURL(strings.TrimRight(name, "/"))
					if !found {
						return fmt.Errorf("no saved login is named %q or is for that URL%s", name, savedNames(creds))
					}
					name = n
				}
			}
			l, ok := creds.Servers[name]
			if !ok {
				return errors.New("no saved logins: there is nothing to log out of")
			}
			revoked := revoke(cmd.Context(), l)
			delete(creds.Servers, name)
			if creds.Current == name {
				creds.Current = creds.latest()
			}
			if err := saveCredentials(path, creds); err != nil {
				return fmt.Errorf("forget the token: %w", err)
			}
			if revoked != nil {
				fmt.Fprintf(e.stdout, "Forgot the login %q (%s). The server did not revoke its token (%v): revoke it in Settings → API tokens.\n", name, l.URL, revoked)
			} else {
				fmt.Fprintf(e.stdout, "Logged out of %s (%q): its token is revoked and forgotten.\n", l.URL, name)
			}
			if creds.Current != "" {
				fmt.Fprintf(e.stdout, "os1 chat now talks to %s (%q).\n", creds.Servers[creds.Current].URL, creds.Current)
			}
			return nil
		},
	}
}

// revoke deletes a saved login's token on its server.
func revoke(ctx context.Context, l savedLogin) error {
	if l.TokenID == "" {
		return errors.New("this login was saved by an older os1, without the token's ID")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := &client{base: l.URL, token: l.Token, http: &http.Client{}}
	return c.do(ctx, http.MethodDelete, "/api/tokens/"+l.TokenID, nil, nil)
}

func (e *env) readPassword(fromStdin bool) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, ok := e.readLine()
	if !ok {
		return "", errors.New("no password given on standard input")
	}
	return line, nil
}

// newToken is an API token as created.
type newToken struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// login signs in with a password and creates an API token named after this machine.
func login(ctx context.Context, base, username, password string) (newToken, error) {
	jar, _ := cookiejar.New(nil)
	c := &client{base: base, http: &http.Client{Jar: jar}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/login", map[string]string{"username": username, "password": password}, &out); err != nil {
		return newToken{}, err
	}
	c.csrf = out.CSRF
	host, _ := os.Hostname()
	var tok newToken
	if err := c.do(ctx, http.MethodPost, "/api/tokens", map[string]string{"name": "os1 login on " + host}, &tok); err != nil {
		return newToken{}, err
	}
	_ = c.do(ctx, http.MethodPost, "/api/logout", nil, nil)
	return tok, nil
}
