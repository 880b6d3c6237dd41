package companion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// Call is one invocation of a tool on behalf of a user.
type Call struct {
	UserID         string
	ConversationID string
	Args           json.RawMessage
	Now            time.Time
	Location       *time.Location
}

// Tool is something the companion can do. A tool with SideEffects changes
// the world (sends, writes, schedules) and runs only after the user confirms;
// a tool without may run at once and must not change anything.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // JSON Schema of the arguments object
	SideEffects bool
	// Summary describes a pending call for the confirmation card, e.g.
	// "Rename this conversation to “Trip”". Optional.
	Summary func(args json.RawMessage) string
	// Review, when set, describes a pending call for the confirmation card
	// knowing the stored action (its user, conversation and the reply that
	// asked), so it can warn of what the arguments alone do not show: a
	// recipient the user never wrote to, untrusted content read earlier in
	// the turn. It replaces Summary there; its lines are kept, each escaped
	// as Summary's text is. It must not change anything.
	Review func(ctx context.Context, a store.Action) string
	Run    func(ctx context.Context, c Call) (string, error)
}

// Registry holds the tools offered to the model. A server may give every
// user the same registry or each their own (Deps.ToolsFor). It is not safe
// for registering while turns read it: build it, then hand it over.
type Registry struct {
	tools map[string]Tool
}

// Errors of Register.
var (
	ErrDuplicateTool = errors.New("a tool of that name is already registered")
	ErrInvalidTool   = errors.New("invalid tool")
)

// toolName is what every provider accepts as a function name.
var toolName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{tools: map[string]Tool{}} }

// Register adds tools. It adds none and returns an error wrapping
// ErrDuplicateTool or ErrInvalidTool when a name is taken, repeated, not
// lowercase letters, digits and underscores (at most 64), or a tool has no Run.
func (r *Registry) Register(tools ...Tool) error {
	seen := map[string]bool{}
	for _, t := range tools {
		switch {
		case !toolName.MatchString(t.Name):
			return fmt.Errorf("register tool %q: %w: a name is a lowercase letter then up to 63 letters, digits or underscores", t.Name, ErrInvalidTool)
		case t.Run == nil:
			return fmt.Errorf("register tool %q: %w: it has no Run function", t.Name, ErrInvalidTool)
		case seen[t.Name]:
			return fmt.Errorf("register tool %q: %w (twice in one call)", t.Name, ErrDuplicateTool)
		}
		if _, dup := r.tools[t.Name]; dup {
			return fmt.Errorf("register tool %q: %w", t.Name, ErrDuplicateTool)
		}
		seen[t.Name] = true
	}
	for _, t := range tools {
		r.tools[t.Name] = t
	}
	return nil
}

// RegisterFrom adds tools of one source under that source's namespace:
// tool "send" from source "mail" is offered as "mail_send", tool "search"
// of MCP server "notes" as source "mcp_notes" → "mcp_notes_search". Sources
// never clash with each other's names that way. Errors are Register's.
func (r *Registry) RegisterFrom(source string, tools ...Tool) error {
	if !toolName.MatchString(source) {
		return fmt.Errorf("register tools of source %q: %w: a source is a lowercase name", source, ErrInvalidTool)
	}
	named := make([]Tool, len(tools))
	for i, t := range tools {
		t.Name = source + "_" + t.Name
		named[i] = t
	}
	return r.Register(named...)
}

// Clone returns a registry with the same tools, to add a user's own to.
func (r *Registry) Clone() *Registry {
	c := NewRegistry()
	for n, t := range r.tools {
		c.tools[n] = t
	}
	return c
}

// Filter returns a registry with the tools whose name keep accepts: a
// user's own set, smaller than everyone's (tool definitions take a large
// share of a small model's context).
func (r *Registry) Filter(keep func(name string) bool) *Registry {
	c := NewRegistry()
	for n, t := range r.tools {
		if keep(n) {
			c.tools[n] = t
		}
	}
	return c
}

// Lookup finds a tool by name.
func (r *Registry) Lookup(name string) (Tool, bool) {
	t, ok := r.tools[name]
	return t, ok
}

// LLMTools lists the tools in the model's terms, sorted by name so prompts are stable.
func (r *Registry) LLMTools() []llm.Tool {
	out := make([]llm.Tool, 0, len(r.tools))
	for _, t := range r.tools {
		params := t.Parameters
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out = append(out, llm.Tool{Name: t.Name, Description: t.Description, Parameters: params})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Summarize describes a call for the user. Hidden characters the model
// put in the arguments are shown escaped (display.go), so the summary
// cannot hide or reorder what the user approves.
func (r *Registry) Summarize(name string, args json.RawMessage) string {
	if t, ok := r.tools[name]; ok && t.Summary != nil {
		return textsafe.Displayable(t.Summary(args))
	}
	return textsafe.Displayable(fmt.Sprintf("Run %s with %s", name, string(args)))
}

// Describe is the confirmation card's text for a stored action: the tool's
// Review when it has one (line breaks kept, hidden characters on each line
// escaped), else Summarize.
func (r *Registry) Describe(ctx context.Context, a store.Action) string {
	t, ok := r.tools[a.Tool]
	if !ok || t.Review == nil {
		return r.Summarize(a.Tool, a.Arguments)
	}
	lines := strings.Split(t.Review(ctx, a), "\n")
	for i, l := range lines {
		lines[i] = textsafe.Displayable(l)
	}
	return strings.Join(lines, "\n")
}

// ConversationRenamer is the storage a rename needs.
type ConversationRenamer interface {
	RenameConversation(ctx context.Context, userID, id, title string, at time.Time) error
}

// BuiltinTools returns the tools every companion has.
func BuiltinTools(convs ConversationRenamer) []Tool {
	return []Tool{
		{
			Name:        "current_time",
			Description: "Get the user's current local date, time and time zone.",
			Parameters:  json.RawMessage(`{"type":"object","properties":{}}`),
			Run: func(_ context.Context, c Call) (string, error) {
				t := c.Now.In(c.Location)
				return t.Format("Monday, 2 January 2006, 15:04 MST") + " (" + c.Location.String() + ")", nil
			},
		},
		{
			Name:        "rename_conversation",
			Description: "Give the current conversation a new title. The user must confirm.",
			Parameters:  json.RawMessage(`{"type":"object","properties":{"title":{"type":"string","description":"the new title, at most 80 characters"}},"required":["title"]}`),
			SideEffects: true,
			Summary: func(args json.RawMessage) string {
				var a struct{ Title string }
				_ = json.Unmarshal(args, &a)
				return "Rename this conversation to “" + a.Title + "”"
			},
			Run: func(ctx context.Context, c Call) (string, error) {
				var a struct{ Title string }
				if err := json.Unmarshal(c.Args, &a); err != nil {
					return "", fmt.Errorf("arguments are not valid JSON: %w", err)
				}
				title := textsafe.CleanTitle(a.Title)
				if title == "" || len([]rune(title)) > 80 {
					return "", fmt.Errorf("title must be 1 to 80 characters, got %d", len([]rune(title)))
				}
				if err := convs.RenameConversation(ctx, c.UserID, c.ConversationID, title, c.Now); err != nil {
					return "", err
				}
				return "Renamed the conversation to “" + title + "”.", nil
			},
		},
	}
}

// storeToolCalls converts between the model's and the store's tool calls.
func storeToolCalls(calls []llm.ToolCall) []store.ToolCall {
	out := make([]store.ToolCall, len(calls))
	for i, c := range calls {
		args := c.Arguments
		if len(args) == 0 || !json.Valid(args) {
			args = json.RawMessage(`{}`)
		}
		out[i] = store.ToolCall{ID: c.ID, Name: c.Name, Arguments: args}
	}
	return out
}
