package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/calendar/radicaletest"
)

// TestContactsCLI: against the whole app, a .vcf imported on the command
// line (the broken card named, the rest kept), a contact added, the list;
// then the address book of a calendar account on Debian's radicale synced
// in, and the account's cards listed.
func TestContactsCLI(t *testing.T) {
	dav := radicaletest.Start(t)
	dav.AddUser("theo", "dav-pass")
	dav.MakeCalendar("theo", "work", "Work")
	mkcol := `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>` +
		`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>Contacts</D:displayname></D:prop></D:set></D:mkcol>`
	if resp := dav.Do("MKCOL", "theo", "/theo/contacts/", "application/xml", mkcol); resp.StatusCode != http.StatusCreated {
		t.Fatalf("MKCOL: %s", resp.Status)
	}
	if resp := dav.Do("PUT", "theo", "/theo/contacts/mum.vcf", "text/vcard",
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:mum-1\r\nFN:Helen Moss\r\nX-OS1-RELATION:mother\r\nTEL:+44 20 7946 0000\r\nEND:VCARD\r\n"); resp.StatusCode >= 300 {
		t.Fatalf("PUT: %s", resp.Status)
	}
	r := startApp(t)
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	if code, out, _ := r.run("", "contacts", "list"); code != 0 || !strings.Contains(out, "No contacts yet") {
		t.Fatalf("empty list: %d %q", code, out)
	}
	in := filepath.Join(t.TempDir(), "in.vcf")
	vcf := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cat-1\r\nFN:Catherine Lima\r\nNICKNAME:Cathy\r\nEMAIL:cathy@example.org\r\nX-OS1-RELATION:sister\r\nBDAY:1990-04-12\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:who@example.org\r\nEND:VCARD\r\n"
	if err := os.WriteFile(in, []byte(vcf), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := r.run("", "contacts", "import", in)
	if code != 0 || !strings.Contains(out, "Imported 1 contact,") || !strings.Contains(out, "skipped: card 2") {
		t.Fatalf("import: %d %q %q", code, out, stderr)
	}
	if code, out, stderr := r.run("", "contacts", "add", "Ana Souza", "--email", "ana@example.org", "--birthday", "--07-04", "--relation", "friend"); code != 0 || !strings.Contains(out, "Added Ana Souza") {
		t.Fatalf("add: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := r.run("", "contacts", "add", "Bad", "--email", "nope"); code == 0 || !strings.Contains(stderr, "not an email") {
		t.Fatalf("a bad email: %d %q", code, stderr)
	}
	code, out, _ = r.run("", "contacts", "list")
	if code != 0 || !strings.Contains(out, "Catherine Lima (Cathy)") || !strings.Contains(out, "sister") || !strings.Contains(out, "1990-04-12") ||
		!strings.Contains(out, "ana@example.org") || !strings.Contains(out, "--07-04") {
		t.Fatalf("list:\n%s", out)
	}
	if code, out, _ := r.run("", "contacts", "sync"); code != 0 || !strings.Contains(out, "No account to sync") {
		t.Fatalf("sync without an account: %d %q", code, out)
	}
	if code, _, stderr := r.run("dav-pass\n", "calendar", "add", "--url", dav.URL, "--username", "theo", "--name", "Home DAV", "--password-stdin"); code != 0 {
		t.Fatalf("calendar add: %q", stderr)
	}
	if code, out, stderr := r.run("", "contacts", "sync"); code != 0 || !strings.Contains(out, "Synced 1 address books in 1 accounts: 1 in") {
		t.Fatalf("sync: %d %q %q", code, out, stderr)
	}
	if code, out, _ := r.run("", "contacts", "list"); code != 0 || !strings.Contains(out, "Helen Moss") || !strings.Contains(out, "mother") || !strings.Contains(out, "+44 20 7946 0000") {
		t.Fatalf("list after sync:\n%s", out)
	}
}
