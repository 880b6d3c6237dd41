package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/config"
)

func (e *env) client(cfg config.Config) (*client, error) {
	creds, err := loadCredentials(config.CredentialsPath(e.getenv))
	if err != nil {
		return nil, err
	}
	t, err := e.target(cfg, creds)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if t.token == "" {
		return nil, &exitError{code: 2, err: fmt.Errorf("not signed in to %s: run `os1 login --server %s`, or pass --token / set OS1_TOKEN (make a token in the web UI under Settings → API tokens)", t.url, t.url)}
	}
	return &client{base: t.url, token: t.token, http: &http.Client{}}, nil
}

func (e *env) chatCmd() *cobra.Command {
	var message, conversation, server, token string
	var retry bool
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Talk with your companion in the terminal",
		Long: "Without --message, chat is interactive: type a line, read the streamed reply; /new starts a new conversation, /quit (or Ctrl-D) leaves.\n" +
			"With --message, it sends one message, prints the streamed reply and exits (0 on success).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			if server != "" {
				cfg.Client.Server = server
			}
			if token != "" {
				cfg.Client.Token = token
			}
			c, err := e.client(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if retry {
				if conversation == "" {
					return &exitError{code: 2, err: fmt.Errorf("--retry needs the conversation: --retry -c ID")}
				}
				return e.printTurn(ctx, c, conversation, "/api/conversations/"+conversation+"/retry", nil, false)
			}
			if cmd.Flags().Changed("message") {
				_, err := e.turn(ctx, c, conversation, message, false)
				return err
			}
			return e.interactive(ctx, c, conversation)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&message, "message", "m", "", "send this one message, print the reply and exit")
	f.StringVarP(&conversation, "conversation", "c", "", "conversation ID to continue (default: a new conversation)")
	f.BoolVar(&retry, "retry", false, "answer the last message of --conversation again (after a failed reply)")
	f.StringVar(&server, "server", "", "server URL or saved login name (default $OS1_SERVER, the config, the most recent os1 login, or http://127.0.0.1:7810)")
	f.StringVar(&token, "token", "", "API token (default $OS1_TOKEN, or the one os1 login saved for the server)")
	return cmd
}

// turn sends text and prints the reply as it streams. It returns the
// conversation ID so an interactive session continues in it.
func (e *env) turn(ctx context.Context, c *client, conv, text string, interactive bool) (string, error) {
	path := "/api/conversations/" + conv + "/messages"
	if conv == "" {
		var created struct {
			ID string `json:"id"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/conversations", map[string]string{"title": titleOf(text)}, &created); err != nil {
			return "", err
		}
		conv = created.ID
		path = "/api/conversations/" + conv + "/messages"
	}
	return conv, e.printTurn(ctx, c, conv, path, map[string]string{"text": text}, interactive)
}

func (e *env) printTurn(ctx context.Context, c *client, conv, path string, body any, interactive bool) error {
	var failure error
	var pending []string
	wrote := false
	for ev, err := range c.stream(ctx, path, body) {
		if err != nil {
			if ctx.Err() != nil {
				_, _ = c.send(context.Background(), http.MethodPost, "/api/conversations/"+conv+"/cancel", nil)
				fmt.Fprintln(e.stdout)
				return errors.New("interrupted; the partial reply is saved")
			}
			return err
		}
		switch ev.Type {
		case "delta":
			fmt.Fprint(e.stdout, ev.Text)
			wrote = true
		case "tool_result":
			if interactive && ev.Message != nil {
				fmt.Fprintf(e.stderr, "\n[tool] %s\n", ev.Message.Content)
			}
		case "action_required":
			if ev.Action != nil {
				pending = append(pending, ev.Action.ID)
				fmt.Fprintf(e.stderr, "\n[needs your confirmation] %s (action %s)\n", ev.Action.Summary, ev.Action.ID)
			}
		case "error":
			if ev.Error != nil {
				failure = fmt.Errorf("%s", ev.Error.Message)
				if ev.Error.Details != "" {
					failure = fmt.Errorf("%s\n(details: %s)", ev.Error.Message, ev.Error.Details)
				}
			}
		}
	}
	if wrote {
		fmt.Fprintln(e.stdout)
	}
	if failure != nil {
		return &exitError{code: 1, err: fmt.Errorf("%w\n(your message is saved; answer it again with `os1 chat --retry -c %s`, or Retry in the web UI)", failure, conv)}
	}
	if len(pending) > 0 && !interactive {
		fmt.Fprintln(e.stderr, "Approve or decline it in the web UI, or in interactive `os1 chat -c "+conv+"`.")
	}
	if interactive {
		for _, id := range pending {
			approve := e.ask("Allow this? [y/N] ")
			if err := e.printTurn(ctx, c, conv, "/api/actions/"+id, map[string]bool{"approve": approve}, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *env) readLine() (string, bool) {
	if e.lines == nil {
		e.lines = bufio.NewScanner(e.stdin)
		e.lines.Buffer(make([]byte, 64<<10), 1<<20+1024)
	}
	if !e.lines.Scan() {
		return "", false
	}
	return e.lines.Text(), true
}

func (e *env) ask(prompt string) bool {
	fmt.Fprint(e.stderr, prompt)
	line, ok := e.readLine()
	return ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "y")
}

func (e *env) interactive(ctx context.Context, c *client, conv string) error {
	var me struct {
		Persona *struct {
			Name string `json:"name"`
		} `json:"persona"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/me", nil, &me); err != nil {
		return err
	}
	name := "os1"
	if me.Persona != nil && me.Persona.Name != "" {
		name = me.Persona.Name
	}
	fmt.Fprintf(e.stderr, "Talking with %s. /new starts a new conversation, /quit leaves.\n", name)
	for {
		fmt.Fprint(e.stderr, "\nyou> ")
		line, ok := e.readLine()
		if !ok {
			fmt.Fprintln(e.stderr)
			return nil
		}
		switch strings.TrimSpace(line) {
		case "":
			continue
		case "/quit", "/exit":
			return nil
		case "/new":
			conv = ""
			fmt.Fprintln(e.stderr, "(new conversation)")
			continue
		}
		fmt.Fprintf(e.stderr, "%s> ", name)
		next, err := e.turn(ctx, c, conv, line, true)
		if next != "" {
			conv = next
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintln(e.stderr, "os1:", err)
		}
	}
}

func titleOf(text string) string {
	line := strings.TrimSpace(strings.SplitN(strings.TrimSpace(text), "\n", 2)[0])
	if r := []rune(line); len(r) > 60 {
		line = string(r[:60]) + "…"
	}
	return line
}
