package contacts_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/contacts/sqlitecontacts"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

type rig struct {
	svc *contacts.Service
	mem *sqlitemem.Store
	clk *clock.Fake
	db  *sqlite.DB
}

func newRig(t *testing.T) *rig {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewFake(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC))
	mem := sqlitemem.New(db.SQL(), sqlitemem.Options{Clock: clk})
	for _, u := range []string{"ana", "ben"} {
		if err := db.CreateUser(t.Context(), store.User{ID: "usr_" + u, Username: u, DisplayName: u, Role: store.RoleMember,
			PasswordHash: "x", CreatedAt: clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return &rig{db: db, mem: mem, clk: clk,
		svc: &contacts.Service{Store: sqlitecontacts.New(db), Entities: mem, Clock: clk, IDs: &clock.FakeIDs{}}}
}

func TestImportKeepsGoodCardsAndReplacesByUID(t *testing.T) {
	r := newRig(t)
	f, _ := os.ReadFile("testdata/mixed.vcf")
	res, err := r.svc.Import(t.Context(), "usr_ana", strings.NewReader(string(f)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 2 || res.Updated != 0 || len(res.Errors) != 2 {
		t.Fatalf("first import: %+v", res)
	}
	// The same file again replaces the cards it holds, not adds them.
	res, err = r.svc.Import(t.Context(), "usr_ana", strings.NewReader(strings.ReplaceAll(string(f), "cathy@example.org", "cathy@new.example")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 0 || res.Updated != 2 {
		t.Fatalf("second import: %+v", res)
	}
	cs, _ := r.svc.Store.ListContacts(t.Context(), "usr_ana", false)
	if len(cs) != 2 || cs[1].Handles[0].Value != "cathy@new.example" || cs[1].Source != contacts.SourceLocal {
		t.Fatalf("after import: %+v", cs)
	}
	if other, _ := r.svc.Store.ListContacts(t.Context(), "usr_ben", true); len(other) != 0 {
		t.Fatalf("ben got ana's import: %+v", other)
	}
	if _, err := r.svc.Import(t.Context(), "usr_ana", strings.NewReader("not a card")); !errors.Is(err, contacts.ErrNotVCard) {
		t.Fatalf("a text file: %v", err)
	}
}

func TestCreateUpdateValidate(t *testing.T) {
	r := newRig(t)
	if _, err := r.svc.Create(t.Context(), "usr_ana", contacts.Contact{Name: " "}); err == nil {
		t.Fatal("a contact without a name")
	}
	if _, err := r.svc.Create(t.Context(), "usr_ana", contacts.Contact{Name: "X", Handles: []contacts.Handle{{Kind: "email", Value: "nope"}}}); err == nil {
		t.Fatal("an email without @")
	}
	if _, err := r.svc.Create(t.Context(), "usr_ana", contacts.Contact{Name: "X", Handles: []contacts.Handle{{Kind: "fax", Value: "1"}}}); err == nil {
		t.Fatal("a handle of an unknown kind")
	}
	c, err := r.svc.Create(t.Context(), "usr_ana", contacts.Contact{Name: " Ana Souza ", Relation: "Friend", Birthday: "19910704",
		Handles: []contacts.Handle{{Kind: "Email", Value: " ana@example.org "}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Ana Souza" || c.Relation != "friend" || c.Birthday != "1991-07-04" || c.Handles[0] != (contacts.Handle{Kind: "email", Value: "ana@example.org"}) {
		t.Fatalf("tidied: %+v", c)
	}
	hs := []contacts.Handle{{Kind: "phone", Value: "+1 555 0100", Label: "cell"}}
	c, err = r.svc.Update(t.Context(), "usr_ana", c.ID, contacts.Edit{Handles: &hs})
	if err != nil || len(c.Handles) != 1 || c.Handles[0].Value != "+1 555 0100" || c.Name != "Ana Souza" || c.LocalChange {
		t.Fatalf("update: %+v, %v", c, err)
	}
	if _, err := r.svc.Update(t.Context(), "usr_ben", c.ID, contacts.Edit{Handles: &hs}); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("ben edits ana's contact: %v", err)
	}
	bad := "ent_nobody"
	if _, err := r.svc.Update(t.Context(), "usr_ana", c.ID, contacts.Edit{EntityID: &bad}); err == nil {
		t.Fatal("linked to a person memory does not know")
	}
	if err := r.svc.Delete(t.Context(), "usr_ben", c.ID); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("ben deletes ana's contact: %v", err)
	}
	if err := r.svc.Delete(t.Context(), "usr_ana", c.ID); err != nil {
		t.Fatal(err)
	}
}

// One person, many handles: memory's Catherine (also "Cathy", "my
// sister") and two contacts, one named Cathy, one linked by id, are one
// person; "Ana" finds Ana Souza by her first name.
func TestPeopleMergeContactsWithMemory(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	if err := r.mem.SaveEntity(ctx, memory.Entity{ID: "ent_cat", UserID: "usr_ana", Name: "Catherine", Aliases: []string{"Cathy", "my sister"},
		Relation: "sister", CreatedAt: r.clk.Now(), UpdatedAt: r.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := r.mem.SaveEntity(ctx, memory.Entity{ID: "ent_jo", UserID: "usr_ana", Name: "Jonah", Relation: "best friend",
		CreatedAt: r.clk.Now(), UpdatedAt: r.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	must := func(c contacts.Contact, err error) contacts.Contact {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	must(r.svc.Create(ctx, "usr_ana", contacts.Contact{Name: "Cathy", Handles: []contacts.Handle{{Kind: "phone", Value: "+34 600 111 222"}}}))
	must(r.svc.Create(ctx, "usr_ana", contacts.Contact{Name: "C. Lima", EntityID: "ent_cat", Birthday: "1990-04-12",
		Handles: []contacts.Handle{{Kind: "email", Value: "cathy@example.org"}}}))
	must(r.svc.Create(ctx, "usr_ana", contacts.Contact{Name: "Ana Souza", Handles: []contacts.Handle{{Kind: "email", Value: "ana@example.org"}}}))
	// Ben's contact named Cathy is not Ana's sister.
	must(r.svc.Create(ctx, "usr_ben", contacts.Contact{Name: "Cathy", Handles: []contacts.Handle{{Kind: "email", Value: "other@example.org"}}}))

	people, err := r.svc.People(ctx, "usr_ana")
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 3 {
		t.Fatalf("people: %+v", people)
	}
	for _, who := range []string{"my sister", "Cathy", "catherine", "Sister", "Cathy's"} {
		got, err := r.svc.Lookup(ctx, "usr_ana", who)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].EntityID != "ent_cat" || len(got[0].Handles) != 2 || got[0].Birthday != "1990-04-12" || len(got[0].ContactIDs) != 2 {
			t.Fatalf("Lookup(%q) = %+v, want Catherine with a phone, an email and her birthday", who, got)
		}
	}
	if got, _ := r.svc.Lookup(ctx, "usr_ana", "Ana"); len(got) != 1 || got[0].Name != "Ana Souza" || got[0].EntityID != "" {
		t.Fatalf("Lookup(Ana) = %+v", got)
	}
	// A person memory knows without a contact is found, with no handles.
	if got, _ := r.svc.Lookup(ctx, "usr_ana", "my best friend"); len(got) != 1 || got[0].Name != "Jonah" || len(got[0].Handles) != 0 {
		t.Fatalf("Lookup(my best friend) = %+v", got)
	}
	if got, _ := r.svc.Lookup(ctx, "usr_ben", "my sister"); len(got) != 0 {
		t.Fatalf("ben's sister: %+v", got)
	}
	if got, _ := r.svc.Lookup(ctx, "usr_ana", "Mallory"); len(got) != 0 {
		t.Fatalf("nobody: %+v", got)
	}
}

func TestBirthdaysAreNextOccurrencesInRange(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	for _, c := range []contacts.Contact{{Name: "Ana", Birthday: "1991-12-05"}, {Name: "Bruno", Birthday: "--12-24"},
		{Name: "Carla", Birthday: "1980-01-02"}, {Name: "Dora", Birthday: "1970-06-01"}, {Name: "Eve"}} {
		if _, err := r.svc.Create(ctx, "usr_ana", c); err != nil {
			t.Fatal(err)
		}
	}
	lis, _ := time.LoadLocation("Europe/Lisbon")
	from := time.Date(2026, 12, 5, 18, 30, 0, 0, lis) // Ana's birthday is today
	bs, err := r.svc.Birthdays(ctx, "usr_ana", from, from.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bs {
		if b.Date.Location() != lis || b.Date.Hour() != 0 || b.ContactID == "" {
			t.Errorf("%s: %v is not a local date", b.Name, b.Date)
		}
		got = append(got, b.Name+" "+b.Date.Format(time.DateOnly))
	}
	if strings.Join(got, ", ") != "Ana 2026-12-05, Bruno 2026-12-24, Carla 2027-01-02" {
		t.Fatalf("birthdays: %v", got)
	}
	if bs, _ := r.svc.Birthdays(ctx, "usr_ben", from, from.AddDate(1, 0, 0)); len(bs) != 0 {
		t.Fatalf("ben sees ana's contacts' birthdays: %v", bs)
	}
}
