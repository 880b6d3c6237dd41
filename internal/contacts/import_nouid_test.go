package contacts_test

import (
	"strings"
	"testing"
)

// A card without a UID imported twice is one contact, not two; a card
// that changed since is added beside it.
func TestImportAgainWithoutUID(t *testing.T) {
	r := newRig(t)
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lia Mar\r\nEMAIL:lia@example.org\r\nEND:VCARD\r\n"
	for i, want := range []struct{ imported, updated int }{{1, 0}, {0, 1}} {
		res, err := r.svc.Import(t.Context(), "usr_ana", strings.NewReader(card))
		if err != nil || res.Imported != want.imported || res.Updated != want.updated {
			t.Fatalf("import %d: %+v %v", i+1, res, err)
		}
	}
	if cs, _ := r.svc.Store.ListContacts(t.Context(), "usr_ana", false); len(cs) != 1 {
		t.Fatalf("after two imports: %d contacts", len(cs))
	}
	changed := strings.Replace(card, "lia@example.org", "lia@new.example", 1)
	if res, err := r.svc.Import(t.Context(), "usr_ana", strings.NewReader(changed)); err != nil || res.Imported != 1 {
		t.Fatalf("changed card: %+v %v", res, err)
	}
	// Another user's identical card is theirs alone.
	if res, err := r.svc.Import(t.Context(), "usr_ben", strings.NewReader(card)); err != nil || res.Imported != 1 {
		t.Fatalf("ben: %+v %v", res, err)
	}
	if cs, _ := r.svc.Store.ListContacts(t.Context(), "usr_ana", false); len(cs) != 2 {
		t.Fatalf("ana: %d contacts", len(cs))
	}
}
