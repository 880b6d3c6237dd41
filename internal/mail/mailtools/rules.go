package mailtools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/mail"
)

// RuleAdder keeps a mail rule in plain words (mail.Service.AddRule).
type RuleAdder interface {
	AddRule(ctx context.Context, userID, text string) (mail.Rule, error)
}

// ruleTool is mail_add_rule: "archive newsletters unless they're from the
// climbing club" said in the chat becomes one of the user's mail rules. A
// rule changes what happens to future mail, so it waits for the user's yes
// like any action, and the card says how os1 understood it (and, through
// Guard, which emails the turn read: an email cannot add a rule by asking).
func ruleTool(d Deps) companion.Tool {
	return Guard(d, companion.Tool{
		Name: "add_rule",
		Description: "Add one of the user's mail rules, in their own words (\"anything from my landlord is important\", " +
			"\"archive newsletters unless they're from the climbing club\"). Only for a rule the user asked for. The user approves it.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"text":{"type":"string","description":"the rule as the user said it"}},"required":["text"]}`),
		SideEffects: true,
		Summary: func(raw json.RawMessage) string {
			var a struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(raw, &a) != nil || strings.TrimSpace(a.Text) == "" {
				return "Add a mail rule with no text (it will fail)."
			}
			spec, err := mail.ParseRule(a.Text)
			if err != nil {
				return fmt.Sprintf("Add the mail rule “%s” — %s", one(a.Text), one(err.Error()))
			}
			return fmt.Sprintf("Add the mail rule “%s”. Understood as: %s", one(a.Text), one(mail.DescribeRule(spec)))
		},
		Run: func(ctx context.Context, c companion.Call) (string, error) {
			var a struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(c.Args, &a); err != nil {
				return "", fmt.Errorf("arguments are not valid JSON: %w", err)
			}
			r, err := d.Rules.AddRule(ctx, c.UserID, a.Text)
			var in *mail.InputError
			if errors.As(err, &in) {
				return in.Msg, nil // the model says it back to the user
			}
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Rule added (%s): %s It applies to mail from now on; Settings → Mail lists it.", r.ID, r.Understood.Summary), nil
		},
	})
}
