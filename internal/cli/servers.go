package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/config"
)

// credentials are the logins `os1 login` saved, by name, in the credentials
// file (mode 0600). Current names the most recent login: the server that
// `os1 chat` talks to when nothing else says which.
//
// The first format (no version) keyed logins by server URL and had no
// current login; loadCredentials reads it and the next save writes this one.
type credentials struct {
	Version int                   `json:"version"`
	Current string                `json:"current,omitempty"`
	Servers map[string]savedLogin `json:"servers"`
}

const credentialsVersion = 2

type savedLogin struct {
	URL      string    `json:"url"`
	Username string    `json:"username"`
	Token    string    `json:"token"`
	TokenID  string    `json:"token_id,omitempty"` // to revoke it on `os1 logout`
	SavedAt  time.Time `json:"saved_at"`
}

func loadCredentials(path string) (credentials, error) {
	c := credentials{Version: credentialsVersion, Servers: map[string]savedLogin{}}
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read saved logins: %w", err)
	}
	c.Version = 0 // the first format has none
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("saved logins in %s are damaged (%v): delete the file and run `os1 login` again", path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]savedLogin{}
	}
	if c.Version < credentialsVersion {
		c = migrateCredentials(c)
	}
	if _, ok := c.Servers[c.Current]; !ok {
		c.Current = c.latest()
	}
	return c, nil
}

// migrateCredentials turns logins keyed by URL into logins named after
// their host (as `os1 login` names them), the newest one current.
func migrateCredentials(old credentials) credentials {
	c := credentials{Version: credentialsVersion, Servers: map[string]savedLogin{}}
	keys := make([]string, 0, len(old.Servers))
	for k := range old.Servers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		l := old.Servers[k]
		if l.URL == "" {
			l.URL = strings.TrimRight(k, "/")
		}
		name := defaultLoginName(l.URL)
		if _, taken := c.Servers[name]; taken || name == "" {
			name = l.URL
		}
		c.Servers[name] = l
	}
	c.Current = c.latest()
	return c
}

// latest is the name of the most recently saved login, "" when none.
func (c credentials) latest() string {
	best := ""
	for name, l := range c.Servers {
		if b, ok := c.Servers[best]; best == "" || !ok || l.SavedAt.After(b.SavedAt) || (l.SavedAt.Equal(b.SavedAt) && name < best) {
			best = name
		}
	}
	return best
}

// byURL finds a saved login for a server URL: the current one if it is
// for that server, else the most recent.
func (c credentials) byURL(u string) (string, savedLogin, bool) {
	if l, ok := c.Servers[c.Current]; ok && l.URL == u {
		return c.Current, l, true
	}
	name, found := "", savedLogin{}
	for n, l := range c.Servers {
		if l.URL == u && (name == "" || l.SavedAt.After(found.SavedAt)) {
			name, found = n, l
		}
	}
	return name, found, name != ""
}

func saveCredentials(path string, c credentials) error {
	if path == "" {
		return errors.New("no place to save the login: set HOME or XDG_CONFIG_HOME")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	c.Version = credentialsVersion
	b, _ := json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	// WriteFile keeps the mode of a file that was already there.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// defaultLoginName names a login after its server's host:port.
func defaultLoginName(serverURL string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// checkLoginName refuses names that would read as a URL.
func checkLoginName(name string) error {
	switch {
	case name == "":
		return errors.New("the login name is empty: give --name a word such as home or work")
	case strings.Contains(name, "://"), strings.ContainsAny(name, " \t\n/"):
		return fmt.Errorf("login name %q may not contain spaces, slashes or a scheme: give --name a word such as home or work", name)
	}
	return nil
}

// target is the server a client command talks to, and the token it sends.
type target struct {
	name  string // the saved login's name; "" when none was used
	url   string
	token string
}

// target decides which server and token to use. The server is, in order:
// cfg.Client.Server (--server, $OS1_SERVER or the config file), which may
// be a URL or a saved login's name; the most recent `os1 login`; the local
// server at addr. The token is cfg.Client.Token (--token, $OS1_TOKEN) or
// the one saved for that server.
func (e *env) target(cfg config.Config, creds credentials) (target, error) {
	var t target
	switch sel := strings.TrimSpace(cfg.Client.Server); {
	case sel != "":
		if l, ok := creds.Servers[sel]; ok {
			t = target{name: sel, url: l.URL, token: l.Token}
			break
		}
		u, err := e.serverURL(sel, creds)
		if err != nil {
			return t, err
		}
		t.url = u
		if name, l, ok := creds.byURL(u); ok {
			t.name, t.token = name, l.Token
		}
	case creds.Current != "":
		l := creds.Servers[creds.Current]
		t = target{name: creds.Current, url: l.URL, token: l.Token}
	default:
		t.url = cfg.BaseURL()
		if name, l, ok := creds.byURL(t.url); ok {
			t.name, t.token = name, l.Token
		}
	}
	if cfg.Client.Token != "" {
		t.token = cfg.Client.Token
	}
	return t, nil
}

// serverURL checks a server given as a URL. Without a scheme, a server on
// this machine (localhost, 127.0.0.0/8, ::1) is taken as http://, which is
// what `os1 serve` speaks and never leaves the machine; any other host is
// refused with the likely URL, so a password is never sent in plain text
// to another machine by a guess.
func (e *env) serverURL(s string, creds credentials) (string, error) {
	s = strings.TrimRight(s, "/")
	if !strings.Contains(s, "://") {
		guess := "http://" + s
		u, err := url.Parse(guess)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("server %q is neither a URL (such as http://127.0.0.1:7810) nor the name of a saved login%s", s, savedNames(creds))
		}
		if isLoopback(u.Hostname()) {
			fmt.Fprintf(e.stderr, "os1: server %q has no scheme; using %s (os1 assumes http:// only for this machine)\n", s, guess)
			return guess, nil
		}
		return "", fmt.Errorf("server %q has no scheme: did you mean %s? (or https://%s behind a TLS proxy; os1 assumes http:// only for localhost)%s",
			s, guess, s, savedNames(creds))
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("server %q is not an http:// or https:// URL (such as http://127.0.0.1:7810)", s)
	}
	return s, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func savedNames(c credentials) string {
	if len(c.Servers) == 0 {
		return ""
	}
	names := make([]string, 0, len(c.Servers))
	for n := range c.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	return "; saved logins: " + strings.Join(names, ", ")
}
