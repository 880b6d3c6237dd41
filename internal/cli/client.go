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
	"strings"

	"github.com/spf13/cobra"
)

// client talks to a running os1 server with an API token.
type client struct {
	base  string
	token string
	http  *http.Client
	csrf  string // for cookie sessions during login
}

// errNotFound is what a 404 answer from the server Is.
var errNotFound = errors.New("not found")

// apiErr is an error answer from the server.
type apiErr struct {
	Status   int
	Code     string
	Message  string
	Server   string
	Resource string // "conversation cnv_…": what the request named, for 404s
}

func (e *apiErr) Error() string {
	if e.Status == http.StatusNotFound {
		if e.Resource != "" && (e.Message == "" || strings.EqualFold(e.Message, "not found")) {
			return fmt.Sprintf("%s not found on %s", e.Resource, e.Server)
		}
		return fmt.Sprintf("%s on %s (HTTP %d %s)", strings.TrimSuffix(e.Message, "."), e.Server, e.Status, e.Code)
	}
	return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code)
}

func (e *apiErr) Is(target error) bool {
	return target == errNotFound && e.Status == http.StatusNotFound
}

// resourceOf names what an API path is about: "/api/conversations/cnv_1/messages"
// is "conversation cnv_1". It is "" for a path that names no one thing.
func resourceOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(strings.TrimPrefix(path, "/api/"), "/")
	if len(parts) < 2 || parts[1] == "" {
		return ""
	}
	kind := map[string]string{"conversations": "conversation", "actions": "action", "tokens": "token", "memories": "memory"}[parts[0]]
	if kind == "" {
		kind = strings.TrimSuffix(parts[0], "s")
	}
	return kind + " " + parts[1]
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
	ctype := "application/json"
	if raw, ok := body.(rawBody); ok { // a file sent as it is (calendar import)
		rd, ctype = raw.R, raw.Type
	} else if body != nil {
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
		req.Header.Set("Content-Type", ctype)
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
		return nil, &apiErr{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Server: c.base, Resource: resourceOf(path)}
	}
	return resp, nil
}

// rawBody is a request body sent as it is, with its content type.
type rawBody struct {
	Type string
	R    io.Reader
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
		Details string `json:"details"` // the technical error behind Message
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

// connectFunc signs in to the server a client command talks to.
type connectFunc func() (*client, error)

// connectFlags gives cmd the --server and --token flags of the client
// commands (`os1 mail`, `os1 reminders`, …) and returns what connects
// with them, after the config, the environment and the saved logins.
func (e *env) connectFlags(cmd *cobra.Command) connectFunc {
	var server, token string
	pf := cmd.PersistentFlags()
	pf.StringVar(&server, "server", "", "server URL or saved login name (default: the most recent os1 login)")
	pf.StringVar(&token, "token", "", "API token (default $OS1_TOKEN, or the one os1 login saved)")
	return func() (*client, error) {
		cfg, err := e.config()
		if err != nil {
			return nil, err
		}
		if server != "" {
			cfg.Client.Server = server
		}
		if token != "" {
			cfg.Client.Token = token
		}
		return e.client(cfg)
	}
}
