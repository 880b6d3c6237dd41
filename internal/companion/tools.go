package companion

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
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
	Run     func(ctx context.Context, c Call) (string, error)
}

// Registry holds the tools offered to the model.
type Registry struct {
	tools map[string]Tool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{tools: map[string]Tool{}} }

// Register adds a tool; a second tool of the same name is a programming error.
func (r *Registry) Register(t Tool) {
	if _, dup := r.tools[t.Name]; dup {
		panic("companion: tool registered twice: " + t.Name)
	}
	if t.Run == nil || t.Name == "" {
		panic("companion: tool without name or Run")
	}
	r.tools[t.Name] = t
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
		return Displayable(t.Summary(args))
	}
	return Displayable(fmt.Sprintf("Run %s with %s", name, string(args)))
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
				title := CleanTitle(a.Title)
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
