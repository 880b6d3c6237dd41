package server_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/contacts/sqlitecontacts"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

type contactsEnv struct {
	*env
	mem *sqlitemem.Store
}

func newContactsEnv(t *testing.T) *contactsEnv {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	mem := sqlitemem.New(r.DB.SQL(), sqlitemem.Options{Clock: r.Clock})
	svc := &contacts.Service{Store: sqlitecontacts.New(r.DB), Entities: mem, Clock: r.Clock, IDs: clock.RandomIDs{}}
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Contacts: svc,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MetricsToken: testMetricsToken})
	return &contactsEnv{env: &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}, mem: mem}
}

const contactsVCF = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cat-1\r\nFN:Catherine Lima\r\nNICKNAME:Cathy\r\nEMAIL:cathy@example.org\r\nBDAY:1990-04-12\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:no-name@example.org\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ana-1\r\nFN:Ana Souza\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n"

func importVCF(c *client, body string) resp {
	return c.raw("POST", "/api/contacts/import", []byte(body), map[string]string{"Content-Type": "text/vcard"})
}

func TestContactsAPI(t *testing.T) {
	e := newContactsEnv(t)
	o := e.owner()
	r := importVCF(o, contactsVCF)
	if r.Status != http.StatusOK {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	if res := r.json(t); res["imported"] != 2.0 || len(res["errors"].([]any)) != 1 || !strings.Contains(res["errors"].([]any)[0].(string), "card 2") {
		t.Fatalf("import result: %v", res)
	}
	if r := importVCF(o, "hello"); r.Status != http.StatusBadRequest || r.code() != "bad_vcard" {
		t.Fatalf("not a vCard: %d %s", r.Status, r.Body)
	}
	if r := importVCF(o, strings.Repeat("x", server.MaxContactsImportBytes+1)); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a file over the limit: %d %s", r.Status, r.Body)
	}
	// Memory knows Catherine as "my sister": the contact merges with her.
	if err := e.mem.SaveEntity(t.Context(), memory.Entity{ID: "ent_cat", UserID: o.user["id"].(string), Name: "Cathy", Relation: "sister",
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	list := o.want(http.StatusOK, "GET", "/api/contacts", nil)
	people := list["people"].([]any)
	if len(list["contacts"].([]any)) != 2 || len(people) != 2 {
		t.Fatalf("list: %v", list)
	}
	cat := people[1].(map[string]any)
	if cat["name"] != "Catherine Lima" || cat["entity_id"] != "ent_cat" || cat["relation"] != "sister" || cat["birthday"] != "1990-04-12" {
		t.Fatalf("the merged person: %v", cat)
	}
	// A person only memory knows gets handles: a contact linked to them,
	// still one person. Another user's memory person cannot be linked.
	if err := e.mem.SaveEntity(t.Context(), memory.Entity{ID: "ent_jo", UserID: o.user["id"].(string), Name: "Jonah", Relation: "best friend",
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	o.want(http.StatusCreated, "POST", "/api/contacts", map[string]any{"name": "Jonah Park", "entity_id": "ent_jo",
		"handles": []map[string]string{{"kind": "phone", "value": "+1 555 0142"}}})
	list = o.want(http.StatusOK, "GET", "/api/contacts", nil)
	if people := list["people"].([]any); len(people) != 3 || people[2].(map[string]any)["name"] != "Jonah Park" || people[2].(map[string]any)["entity_id"] != "ent_jo" {
		t.Fatalf("the linked person: %v", people)
	}
	created := o.want(http.StatusCreated, "POST", "/api/contacts", map[string]any{"name": "Bruno", "relation": "friend",
		"handles": []map[string]string{{"kind": "email", "value": "bruno@example.org"}}})
	id := created["id"].(string)
	if created["source"] != "local" || created["card"] != nil || created["href"] != nil {
		t.Fatalf("created: %v", created)
	}
	if r := o.do("POST", "/api/contacts", map[string]any{"name": "X", "handles": []map[string]string{{"kind": "email", "value": "nope"}}}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "not an email") {
		t.Fatalf("a bad email: %d %s", r.Status, r.Body)
	}
	ed := o.want(http.StatusOK, "PATCH", "/api/contacts/"+id, map[string]any{"handles": []map[string]string{{"kind": "phone", "value": "+1 555 0199", "label": "cell"}}, "birthday": "--07-04"})
	if hs := ed["handles"].([]any); len(hs) != 1 || hs[0].(map[string]any)["value"] != "+1 555 0199" || ed["birthday"] != "--07-04" || ed["relation"] != "friend" {
		t.Fatalf("edited: %v", ed)
	}
	if g := o.want(http.StatusOK, "GET", "/api/contacts/"+id, nil); g["name"] != "Bruno" {
		t.Fatalf("get: %v", g)
	}
	ex := o.raw("GET", "/api/contacts/export.vcf", nil, nil)
	if ex.Status != http.StatusOK || !strings.Contains(string(ex.Body), "FN:Bruno") || !strings.Contains(string(ex.Body), "TEL;TYPE=cell:+1 555 0199") {
		t.Fatalf("export: %d %s", ex.Status, ex.Body)
	}
	// No CardDAV on this server: sync says so.
	if r := o.do("POST", "/api/contacts/sync", nil); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("sync without CardDAV: %d %s", r.Status, r.Body)
	}

	// Another user sees none of it and can touch none of it.
	m := e.member(o, "ana")
	if l := m.want(http.StatusOK, "GET", "/api/contacts", nil); len(l["contacts"].([]any)) != 0 || len(l["people"].([]any)) != 0 {
		t.Fatalf("ana sees the owner's contacts: %v", l)
	}
	for _, req := range []struct{ method, path string }{{"GET", "/api/contacts/" + id}, {"PATCH", "/api/contacts/" + id}, {"DELETE", "/api/contacts/" + id}} {
		if r := m.do(req.method, req.path, map[string]any{"name": "Mallory"}); r.Status != http.StatusNotFound {
			t.Fatalf("ana %s %s: %d %s", req.method, req.path, r.Status, r.Body)
		}
	}
	if r := m.do("POST", "/api/contacts", map[string]any{"name": "Jonah", "entity_id": "ent_jo"}); r.Status != http.StatusBadRequest {
		t.Fatalf("ana links the owner's memory person: %d %s", r.Status, r.Body)
	}
	if ex := m.raw("GET", "/api/contacts/export.vcf", nil, nil); strings.Contains(string(ex.Body), "Bruno") {
		t.Fatalf("ana exports the owner's contacts: %s", ex.Body)
	}
	if r := o.do("DELETE", "/api/contacts/"+id, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := o.do("GET", "/api/contacts/"+id, nil); r.Status != http.StatusNotFound {
		t.Fatalf("after delete: %d", r.Status)
	}
}
