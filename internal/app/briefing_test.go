package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
)

// TestBriefingWired: os1 serve registers meeting_brief and
// morning_briefing as tools that act without asking (they only read), and
// they read the app's own calendar in the user's zone; the agenda slot
// and the briefer are built.
func TestBriefingWired(t *testing.T) {
	ctx := context.Background()
	a, err := app.New(ctx, testConfig(t), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Briefing == nil {
		t.Fatal("os1 serve has no briefer")
	}
	if err := a.DB.CreateUser(ctx, store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theo", Role: store.RoleOwner,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.SaveProfile(ctx, store.Profile{UserID: "usr_theo", Timezone: "Asia/Tokyo", UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	start := time.Now().In(tokyo).Add(2 * time.Hour).Truncate(time.Minute)
	if _, err := a.Calendar.Service.Create(ctx, "usr_theo", calendar.EventInput{Summary: "Call with Ana", Start: calendar.At(start),
		Attendees: []calendar.Person{{Name: "Ana Lima", Email: "ana@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	tools := a.Companion.Tools()
	for _, name := range []string{"meeting_brief", "morning_briefing"} {
		tool, ok := tools.Lookup(name)
		if !ok || tool.SideEffects {
			t.Fatalf("%s: registered %v, side effects %v", name, ok, tool.SideEffects)
		}
	}
	brief, _ := tools.Lookup("meeting_brief")
	out, err := brief.Run(ctx, companion.Call{UserID: "usr_theo", Args: []byte(`{"meeting":"ana"}`), Now: time.Now()})
	if err != nil || !strings.Contains(out, "Meeting brief: “Call with Ana”") || !strings.Contains(out, start.Format("15:04")+" to ") ||
		!strings.Contains(out, "(Asia/Tokyo)") || !strings.Contains(out, "Who is coming: Ana Lima.") {
		t.Errorf("meeting_brief: %v\n%s", err, out)
	}
	if got, err := a.Briefing.MeetingBrief(ctx, "usr_theo", "ev_none", start); err == nil {
		t.Errorf("a brief of no event: %q", got)
	}
}
