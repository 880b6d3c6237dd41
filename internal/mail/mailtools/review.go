package mailtools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// one keeps a field on its line: line breaks in it are shown escaped.
func one(s string) string { return textsafe.Displayable(s) }

// Warning lines of a send's approval card start with this.
const WarningPrefix = "⚠ "

// review is mail_send's approval card: first a warning for each
// recipient the user never wrote to nor named in the conversation, and one
// naming the emails this turn read before the send was proposed (on top,
// where a long body cannot push them out of sight); then the message
// exactly as it will leave. Failing to check is itself a warning.
func (t *tools) review(ctx context.Context, a store.Action) string {
	var warn []string
	p, err := t.prepare(ctx, a.UserID, a.Arguments)
	if err != nil {
		warn = append(warn, "This email cannot be sent as asked: "+one(err.Error()))
	}
	var said []string
	hist, herr := t.d.History.Messages(ctx, a.UserID, a.ConversationID)
	if herr != nil {
		warn = append(warn, "Could not read this conversation to check where the request came from: "+one(herr.Error()))
	}
	for _, m := range hist {
		if m.Role == store.RoleUser {
			said = append(said, strings.ToLower(m.Content))
		}
	}
	if err == nil {
		for _, addr := range p.draft.Recipients() {
			if w := t.strangerWarning(ctx, a.UserID, addr, said); w != "" {
				warn = append(warn, w)
			}
		}
	}
	if herr == nil {
		if w := t.exposureWarning(ctx, a.UserID, turnOf(hist, a.MessageID)); w != "" {
			warn = append(warn, w)
		}
	}
	var b strings.Builder
	for _, w := range warn {
		b.WriteString(WarningPrefix + w + "\n")
	}
	if err != nil {
		b.WriteString(summarizeArgs(a.Arguments))
	} else {
		b.WriteString(card(p))
	}
	return b.String()
}

// card shows the message as it will leave.
func card(p prepared) string {
	d := p.draft
	var b strings.Builder
	b.WriteString("Send this email?\n")
	fmt.Fprintf(&b, "From: %s (account “%s”)\n", cardAddr(d.From), one(p.acct.Name))
	fmt.Fprintf(&b, "To: %s\n", joinAddrs(d.To))
	fmt.Fprintf(&b, "Cc: %s\n", joinAddrs(d.Cc))
	fmt.Fprintf(&b, "Subject: %s\n", d.Subject)
	if p.replyTo != nil {
		fmt.Fprintf(&b, "In reply to: “%s” from %s\n", one(p.replyTo.Subject), cardAddr(p.replyTo.From))
	}
	if len(d.Attachments) == 0 {
		b.WriteString("Attachments: none\n")
	}
	for _, part := range p.parts {
		fmt.Fprintf(&b, "Attachment: %s (%s, %d bytes)\n", one(part.Name), one(part.MIME), part.Size)
	}
	b.WriteString("Body:\n")
	b.WriteString(d.Body)
	return b.String()
}

// joinAddrs shows addresses on the card: a name always in quotes beside
// its address, so a name that looks like an address ("amy@example.org"
// <x@attacker.test>) is seen for what it is.
func joinAddrs(as []mail.Address) string {
	if len(as) == 0 {
		return "(none)"
	}
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = cardAddr(a)
	}
	return strings.Join(s, ", ")
}

func cardAddr(a mail.Address) string {
	if a.Name == "" {
		return a.Email
	}
	return "\"" + one(a.Name) + "\" <" + one(a.Email) + ">"
}

// summarizeArgs is the card from the arguments alone (no account lookup):
// where Review cannot run it still shows every field exactly.
func summarizeArgs(raw json.RawMessage) string {
	var a sendArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return "Send an email with arguments that are not valid JSON: " + string(raw)
	}
	var b strings.Builder
	b.WriteString("Send this email?\n")
	fmt.Fprintf(&b, "To: %s\n", one(strings.Join(a.To, ", ")))
	fmt.Fprintf(&b, "Cc: %s\n", one(strings.Join(a.Cc, ", ")))
	fmt.Fprintf(&b, "Subject: %s\n", one(a.Subject))
	if a.InReplyTo != "" {
		fmt.Fprintf(&b, "In reply to message: %s\n", one(a.InReplyTo))
	}
	b.WriteString("Body:\n" + a.Body)
	return b.String()
}

// strangerWarning warns of an address the user has not written to and
// did not write in this conversation.
func (t *tools) strangerWarning(ctx context.Context, userID, addr string, said []string) string {
	l := strings.ToLower(addr)
	for _, s := range said {
		if strings.Contains(s, l) {
			return ""
		}
	}
	if t.d.Correspondents != nil {
		known, err := t.d.Correspondents.WroteTo(ctx, userID, addr)
		if err != nil {
			return fmt.Sprintf("%s: could not check whether you have written to this address before (%s).", addr, one(err.Error()))
		}
		if known {
			return ""
		}
	}
	w := fmt.Sprintf("%s: you have never written to this address and did not name it in this conversation.", addr)
	if strings.IndexFunc(addr, func(r rune) bool { return r > 0x7e }) >= 0 {
		w += " Its address has letters outside ASCII, which can imitate another address."
	}
	return w
}

// turnOf is the part of the conversation that led to the reply asking for
// the action: the messages after the last user message before it (the
// whole tail when the reply is not found).
func turnOf(hist []store.Message, replyID string) []store.Message {
	end := len(hist)
	for i, m := range hist {
		if m.ID == replyID {
			end = i + 1
			break
		}
	}
	start := 0
	for i := end - 1; i >= 0; i-- {
		if hist[i].Role == store.RoleUser {
			start = i + 1
			break
		}
	}
	return hist[start:end]
}

// exposureWarning names the emails the turn's mail tools returned, read
// from the first line each result opens with (written by the tool).
func (t *tools) exposureWarning(ctx context.Context, userID string, turn []store.Message) string {
	mailCalls := map[string]bool{}
	for _, m := range turn {
		for _, c := range m.ToolCalls {
			if strings.HasPrefix(c.Name, SourceName+"_") {
				mailCalls[c.ID] = true
			}
		}
	}
	var ids []string
	seen := map[string]bool{}
	for _, m := range turn {
		if m.Role != store.RoleTool || !mailCalls[m.ToolCallID] {
			continue
		}
		g := untrustedRE.FindStringSubmatch(m.Content)
		if g == nil {
			continue
		}
		for _, id := range strings.Fields(g[1]) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return ""
	}
	const show = 5
	var from []string
	for i, id := range ids {
		if i == show {
			from = append(from, fmt.Sprintf("and %d more", len(ids)-show))
			break
		}
		m, err := t.d.Source.Message(ctx, userID, id)
		if err != nil {
			from = append(from, "message "+one(id))
			continue
		}
		from = append(from, fmt.Sprintf("%s “%s”", cardAddr(m.From), one(m.Subject)))
	}
	return fmt.Sprintf("Before proposing this, os1 read %d email(s) in this turn; the request may have come from one of them rather than from you: %s.",
		len(ids), strings.Join(from, "; "))
}

// Guard gives a side-effect tool of another source (renaming a
// conversation, later calendar or reminders) mail's warning: its approval
// card names the emails the turn read before the call was proposed. A
// tool with its own Review, or without side effects, is returned as is.
func Guard(d Deps, tool companion.Tool) companion.Tool {
	if !tool.SideEffects || tool.Review != nil {
		return tool
	}
	t := &tools{d: d}
	summary := tool.Summary
	tool.Review = func(ctx context.Context, a store.Action) string {
		text := "Run " + a.Tool + " with " + string(a.Arguments)
		if summary != nil {
			text = summary(a.Arguments)
		}
		text = one(text)
		hist, err := d.History.Messages(ctx, a.UserID, a.ConversationID)
		if err != nil {
			return WarningPrefix + "Could not read this conversation to check where the request came from: " + one(err.Error()) + "\n" + text
		}
		if w := t.exposureWarning(ctx, a.UserID, turnOf(hist, a.MessageID)); w != "" {
			return WarningPrefix + w + "\n" + text
		}
		return text
	}
	return tool
}
