// Package contactstest is the contract suite every contacts.Store backend
// passes. Tests only.
package contactstest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/contacts"
)

// Open returns a fresh store and a function that creates a user (by name)
// and returns its ID.
type Open func(t *testing.T) (contacts.Store, func(name string) string)

// Run runs the suite.
func Run(t *testing.T, open Open) {
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, open) })
	t.Run("ListByNameAndTombstones", func(t *testing.T) { list(t, open) })
	t.Run("Isolation", func(t *testing.T) { isolation(t, open) })
	t.Run("Delete", func(t *testing.T) { del(t, open) })
}

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// Sample is a contact with every field set.
func Sample(id, userID, name string) contacts.Contact {
	return contacts.Contact{ID: id, UserID: userID, UID: id + "@test", Name: name, OtherNames: []string{"Cathy", "Cat"},
		Relation: "sister", Birthday: "1990-04-12", Notes: "likes tulips", Source: contacts.SourceCardDAV, EntityID: "ent_1",
		Handles: []contacts.Handle{{Kind: contacts.Email, Value: "cat@example.org", Label: "home"},
			{Kind: contacts.Phone, Value: "+34 600 000 000", Label: "cell"}, {Kind: contacts.Address, Value: "1 Main St, Lisbon"}},
		Book: "/u/contacts/", Href: "/u/contacts/" + id + ".vcf", ETag: `"e1"`, Card: "BEGIN:VCARD\r\nEND:VCARD\r\n",
		LocalChange: true, CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)}
}

func roundTrip(t *testing.T, open Open) {
	st, user := open(t)
	ana := user("ana")
	c := Sample("ct_1", ana, "Catherine Lima")
	if err := st.PutContact(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err := st.Contact(t.Context(), ana, "ct_1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(c.CreatedAt) || !got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Fatalf("times: got %v %v, want %v %v", got.CreatedAt, got.UpdatedAt, c.CreatedAt, c.UpdatedAt)
	}
	got.CreatedAt, got.UpdatedAt = c.CreatedAt, c.UpdatedAt
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("read back\n got %+v\nwant %+v", got, c)
	}
	// Replacing keeps one row and every new value.
	c.Handles = c.Handles[:1]
	c.OtherNames = nil
	c.LocalChange, c.ETag = false, `"e2"`
	if err := st.PutContact(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err = st.Contact(t.Context(), ana, "ct_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Handles) != 1 || len(got.OtherNames) != 0 || got.LocalChange || got.ETag != `"e2"` {
		t.Fatalf("after replace: %+v", got)
	}
	if all, _ := st.ListContacts(t.Context(), ana, true); len(all) != 1 {
		t.Fatalf("replace made %d rows", len(all))
	}
}

func list(t *testing.T, open Open) {
	st, user := open(t)
	ana := user("ana")
	for _, c := range []contacts.Contact{Sample("ct_b", ana, "bruno"), Sample("ct_a", ana, "Ana"), Sample("ct_c", ana, "Carla")} {
		if err := st.PutContact(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	gone := Sample("ct_d", ana, "Dora")
	gone.Deleted = true
	if err := st.PutContact(t.Context(), gone); err != nil {
		t.Fatal(err)
	}
	cs, err := st.ListContacts(t.Context(), ana, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Ana", "bruno", "Carla"}) {
		t.Fatalf("list: %v (want by name, case-insensitively, without the tombstone)", names)
	}
	all, err := st.ListContacts(t.Context(), ana, true)
	if err != nil || len(all) != 4 {
		t.Fatalf("list with tombstones: %d, %v", len(all), err)
	}
}

func isolation(t *testing.T, open Open) {
	st, user := open(t)
	ana, ben := user("ana"), user("ben")
	if err := st.PutContact(t.Context(), Sample("ct_1", ana, "Catherine")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Contact(t.Context(), ben, "ct_1"); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("another user's contact: %v, want ErrNotFound", err)
	}
	if cs, _ := st.ListContacts(t.Context(), ben, true); len(cs) != 0 {
		t.Fatalf("ben lists ana's contacts: %+v", cs)
	}
	if err := st.DeleteContact(t.Context(), ben, "ct_1"); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("delete another user's contact: %v, want ErrNotFound", err)
	}
	// Writing with another user's id never takes the contact over.
	if err := st.PutContact(t.Context(), Sample("ct_1", ben, "Mallory")); err == nil {
		t.Fatal("ben overwrote ana's contact id")
	}
	if c, err := st.Contact(t.Context(), ana, "ct_1"); err != nil || c.Name != "Catherine" {
		t.Fatalf("ana's contact after ben's write: %+v, %v", c, err)
	}
}

func del(t *testing.T, open Open) {
	st, user := open(t)
	ana := user("ana")
	if err := st.PutContact(t.Context(), Sample("ct_1", ana, "Catherine")); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteContact(t.Context(), ana, "ct_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Contact(t.Context(), ana, "ct_1"); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := st.DeleteContact(t.Context(), ana, "ct_1"); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}
