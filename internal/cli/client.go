package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// client talks to a running os1 server with an API token.
type client struct {
	base  string
	token string
	http  *http.Client
	csrf  string // for cookie sessions during login
}

// apiErr is an error answer from the server.
type apiErr struct {
	Status  int
	Code    string
	Message string
}

func (e *apiErr) Error() string {
	return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code)
}

func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return nil
}

func (c *client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the os1 server at %s (is `os1 serve` running? set --server or OS1_SERVER): %w", c.base, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			e.Error.Message = strings.TrimSpace(string(b))
		}
		return nil, &apiErr{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	return resp, nil
}

// event is a turn event as received.
type event struct {
	Type         string `json:"type"`
	Conversation *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"conversation"`
	Message *struct {
		ID      string `json:"id"`
		Role    string `json:"role"`
		Content string `json:"content"`
		Status  string `json:"status"`
		Error   string `json:"error"`
	} `json:"message"`
	Text   string `json:"text"`
	Action *struct {
		ID      string `json:"id"`
		Tool    string `json:"tool"`
		Summary string `json:"summary"`
	} `json:"action"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// stream posts and reads the server-sent events of a turn.
func (c *client) stream(ctx context.Context, path string, body any) iter.Seq2[event, error] {
	return func(yield func(event, error) bool) {
		resp, err := c.send(ctx, http.MethodPost, path, body)
		if err != nil {
			yield(event{}, err)
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev event
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				yield(event{}, fmt.Errorf("the server sent an unreadable event: %w", err))
				return
			}
			if !yield(ev, nil) {
				return
			}
			if ev.Type == "turn_done" {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(event{}, fmt.Errorf("the connection to the server broke during the reply: %w", err))
			return
		}
		yield(event{}, errors.New("the server closed the stream before the reply finished"))
	}
}

// credentials are API tokens saved by `os1 login`, per server URL.
type credentials struct {
	Servers map[string]savedLogin `json:"servers"`
}

type savedLogin struct {
	Username string    `json:"username"`
	Token    string    `json:"token"`
	SavedAt  time.Time `json:"saved_at"`
}

func loadCredentials(path string) (credentials, error) {
	c := credentials{Servers: map[string]savedLogin{}}
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
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("saved logins in %s are damaged (%v): delete the file and run `os1 login` again", path, err)
	}
	if c.Servers == nil {
		c.Servers = map[string]savedLogin{}
	}
	return c, nil
}

func saveCredentials(path string, c credentials) error {
	if path == "" {
		return errors.New("no place to save the login: set HOME or XDG_CONFIG_HOME")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
