package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/os1ai/os1/internal/config"
)

func (e *env) loginCmd() *cobra.Command {
	var server, username string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to an os1 server and save an API token for `os1 chat`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			if server != "" {
				cfg.Client.Server = server
			}
			base := cfg.ServerURL()
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
			token, err := login(cmd.Context(), base, username, password)
			if err != nil {
				return err
			}
			path := config.CredentialsPath(e.getenv)
			creds, err := loadCredentials(path)
			if err != nil {
				return err
			}
			creds.Servers[base] = savedLogin{Username: username, Token: token, SavedAt: time.Now().UTC()}
			if err := saveCredentials(path, creds); err != nil {
				return fmt.Errorf("save the token: %w", err)
			}
			fmt.Fprintf(e.stdout, "Signed in to %s as %s. The API token is saved in %s.\n", base, username, path)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "os1 server URL (default from config, $OS1_SERVER, or http://127.0.0.1:7810)")
	f.StringVarP(&username, "username", "u", "", "username")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	return cmd
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

// login signs in with a password and creates an API token named after this machine.
func login(ctx context.Context, base, username, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &client{base: base, http: &http.Client{Jar: jar}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/login", map[string]string{"username": username, "password": password}, &out); err != nil {
		return "", err
	}
	c.csrf = out.CSRF
	host, _ := os.Hostname()
	var tok struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/tokens", map[string]string{"name": "os1 login on " + host}, &tok); err != nil {
		return "", err
	}
	_ = c.do(ctx, http.MethodPost, "/api/logout", nil, nil)
	return tok.Token, nil
}
