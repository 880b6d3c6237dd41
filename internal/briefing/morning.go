package briefing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/schedule"
)

// recentMail is how far back the morning briefing looks for important mail.
const recentMail = 72 * time.Hour

// Morning is the morning briefing for the day holding day (in the user's
// zone): the day's agenda, the reminders due that day, and the important
// mail (needing a reply or triaged important, from the last three days),
// each part only when its source exists. There is no weather part: os1 has
// no weather source, and the text tells the model not to guess one.
func (b *Briefer) Morning(ctx context.Context, userID string, day time.Time) (string, error) {
	loc := b.location(ctx, userID)
	span := dayOf(day, loc)
	var out strings.Builder
	fmt.Fprintf(&out, "Morning briefing for %s (%s).\n", span.From.Format("Monday 2 January"), loc)

	if b.d.Calendar != nil {
		out.WriteString(dataNote + "\n")
		occ, err := b.d.Calendar.Agenda(ctx, userID, span, loc)
		if err != nil {
			return "", fmt.Errorf("read today's calendar: %w", err)
		}
		if len(occ) == 0 {
			out.WriteString("\nNothing in the calendar today.\n")
		} else {
			fmt.Fprintf(&out, "\nToday's calendar (%d):\n", len(occ))
			for i, o := range occ {
				if i == maxEventsShown {
					fmt.Fprintf(&out, "- and %d more.\n", len(occ)-maxEventsShown)
					break
				}
				out.WriteString("- " + eventLine(o, loc) + "\n")
			}
		}
	}

	if b.d.Reminders != nil {
		rs, err := b.d.Reminders.List(ctx, userID, false)
		if err != nil {
			b.d.Log.Warn("briefing: list reminders", "user", userID, "err", err)
		}
		var due []string
		for _, r := range rs {
			if r.State != schedule.Pending || r.Wake || r.Due.Before(span.From) || !r.Due.Before(span.To) {
				continue
			}
			due = append(due, fmt.Sprintf("- %s: %s", speakTime(r.Due, loc), clean(r.Text)))
		}
		if len(due) > 0 {
			fmt.Fprintf(&out, "\nReminders due today:\n%s\n", strings.Join(due, "\n"))
		}
	}

	var quoted []mail.Message
	if b.hasMail(ctx, userID) {
		important, needs, err := b.importantMail(ctx, userID)
		if err != nil {
			b.d.Log.Warn("briefing: read the inbox", "user", userID, "err", err)
			out.WriteString("\nThe inbox could not be read just now.\n")
		} else {
			owed := 0
			if b.d.FollowUps != nil {
				if o, _, err := b.d.FollowUps.FollowUps(ctx, userID); err == nil {
					owed = len(o)
				}
			}
			switch {
			case len(important) == 0:
				out.WriteString("\nNo important new mail.\n")
			default:
				fmt.Fprintf(&out, "\nImportant mail: %d in the last three days, %d needing a reply. The most important, quoted:\n", len(important), needs)
				quoted = important[:min(len(important), mailsPerMorn)]
				for _, m := range quoted {
					out.WriteString(mail.Quote(m, quoteChars))
				}
			}
			if owed > 0 {
				fmt.Fprintf(&out, "Replies the user still owes in all: %d.\n", owed)
			}
		}
	}
	out.WriteString("\nThere is no weather source: say nothing about the weather.\n")
	return untrustedLine(quoted) + out.String(), nil
}

// importantMail is the inbox mail of the last three days that needs a
// reply or was triaged important, most important first, and how many of
// it need a reply.
func (b *Briefer) importantMail(ctx context.Context, userID string) ([]mail.Message, int, error) {
	accts, err := b.d.Mail.Accounts(ctx, userID)
	if err != nil {
		return nil, 0, err
	}
	since := b.d.Clock.Now().Add(-recentMail)
	var out []mail.Message
	needs := 0
	for _, a := range accts {
		folders, err := b.d.Mail.Folders(ctx, userID, a.ID)
		if err != nil {
			return nil, 0, err
		}
		for _, f := range folders {
			if f.Role != mail.RoleInbox && !(f.Role == "" && strings.EqualFold(f.Name, "INBOX")) {
				continue
			}
			ms, err := b.d.Mail.Messages(ctx, userID, mail.Query{AccountID: a.ID, Folder: f.Name, Limit: 200})
			if err != nil {
				return nil, 0, err
			}
			for _, m := range ms {
				t := m.Triage
				if !t.Triaged() || t.Category == mail.Spam || t.Archive || m.Date.Before(since) || m.HasFlag(mail.FlagAnswered) {
					continue
				}
				if t.Category != mail.NeedsReply && t.Importance < ImportantAt {
					continue
				}
				if t.Category == mail.NeedsReply {
					needs++
				}
				out = append(out, m)
			}
		}
	}
	slices.SortStableFunc(out, func(x, y mail.Message) int {
		if c := cmp.Compare(y.Triage.Importance, x.Triage.Importance); c != 0 {
			return c
		}
		return y.Date.Compare(x.Date)
	})
	return out, needs, nil
}
