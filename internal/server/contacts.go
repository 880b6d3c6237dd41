package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/store"
)

// Contacts: each user's address book merged with memory's people
// (docs/contacts.md). Every query is scoped by the signed-in user; another
// user's ids answer 404.

// MaxContactsImportBytes caps a .vcf upload (POST /api/contacts/import).
const MaxContactsImportBytes = 8 << 20

func (s *Server) contactRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/contacts", s.user(s.listContacts))
	m.HandleFunc("POST /api/contacts", s.user(s.createContact))
	m.HandleFunc("GET /api/contacts/{id}", s.user(s.getContact))
	m.HandleFunc("PATCH /api/contacts/{id}", s.user(s.editContact))
	m.HandleFunc("DELETE /api/contacts/{id}", s.user(s.deleteContact))
	m.HandleFunc("POST /api/contacts/import", s.user(s.importContacts))
	m.HandleFunc("GET /api/contacts/export.vcf", s.user(s.exportContacts))
	m.HandleFunc("POST /api/contacts/sync", s.user(s.syncContacts))
}

// contactsService returns the contacts, or answers 503 when there are none.
func (s *Server) contactsService(w http.ResponseWriter) *contacts.Service {
	if s.Contacts == nil {
		writeError(w, http.StatusServiceUnavailable, "contacts_unavailable", "Contacts are not enabled on this server.")
	}
	return s.Contacts
}

// contactsError maps the contacts domain's errors to answers.
func (s *Server) contactsError(w http.ResponseWriter, what string, err error) {
	var in *contacts.InputError
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "bad_request", in.Msg)
	case errors.Is(err, contacts.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such contact.")
	case errors.Is(err, contacts.ErrNotVCard):
		writeError(w, http.StatusBadRequest, "bad_vcard", sentence(err.Error()))
	default:
		s.internal(w, what, err)
	}
}

// listContacts answers the user's contacts and their people (contacts
// merged with memory's people).
func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.contactsService(w)
	if svc == nil {
		return
	}
	cs, err := svc.Store.ListContacts(r.Context(), u.ID, false)
	if err != nil {
		s.contactsError(w, "list contacts", err)
		return
	}
	people, err := svc.People(r.Context(), u.ID)
	if err != nil {
		s.contactsError(w, "list people", err)
		return
	}
	if cs == nil {
		cs = []contacts.Contact{}
	}
	if people == nil {
		people = []contacts.Person{}
	}
	books, err := svc.Books(r.Context(), u.ID)
	if err != nil {
		s.contactsError(w, "list address books", err)
		return
	}
	if books == nil {
		books = []contacts.Book{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": cs, "people": people, "books": books})
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.contactsService(w)
	if svc == nil {
		return
	}
	c, err := svc.Store.Contact(r.Context(), u.ID, r.PathValue("id"))
	if err == nil && c.Deleted {
		err = contacts.ErrNotFound
	}
	if err != nil {
		s.contactsError(w, "read a contact", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.contactsService(w)
	if svc == nil {
		return
	}
	var in struct {
		Name       string            `json:"name"`
		OtherNames []string          `json:"other_names"`
		Relation   string            `json:"relation"`
		Handles    []contacts.Handle `json:"handles"`
		Birthday   string            `json:"birthday"`
		Notes      string            `json:"notes"`
		EntityID   string            `json:"entity_id"`
		AccountID  string            `json:"account_id"` // with book: made in a synced address book
		Book       string            `json:"book"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	c, err := svc.Create(r.Context(), u.ID, contacts.Contact{Name: in.Name, OtherNames: in.OtherNames, Relation: in.Relation,
		Handles: in.Handles, Birthday: in.Birthday, Notes: in.Notes, EntityID: in.EntityID, AccountID: in.AccountID, Book: in.Book})
	if err != nil {
		s.contactsError(w, "add a contact", err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) editContact(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.contactsService(w)
	if svc == nil {
		return
	}
	var e contacts.Edit
	if err := readJSON(w, r, &e); err != nil {
		return
	}
	c, err := svc.Update(r.Context(), u.ID, r.PathValue("id"), e)
	if err != nil {
		s.contactsError(w, "edit a contact", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.contactsService(w)
	if svc == nil {
		return
	}
	if err := svc.Delete(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.contactsError(w, "delete a contact", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// importContacts reads a .vcf body into the user's contacts. Cards that
// cannot be read are listed in errors; every other card is kept.
func (s *Server) importContacts(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.contactsService(w)
	if svc == nil {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxContactsImportBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
				fmt.Sprintf("The contacts file is larger than %s, the most os1 imports at once; split it into smaller .vcf files.", human(MaxContactsImportBytes)))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", "Could not read the contacts file: "+err.Error())
		return
	}
	res, err := svc.Import(r.Context(), u.ID, bytes.NewReader(body))
	if err != nil {
		s.contactsError(w, "import a contacts file", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.contactsService(w)
	if svc == nil {
		return
	}
	var buf bytes.Buffer
	if err := svc.Export(r.Context(), u.ID, &buf); err != nil {
		s.contactsError(w, "export contacts", err)
		return
	}
	w.Header().Set("Content-Type", "text/vcard; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contacts.vcf"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// syncContacts syncs the user's address books with their DAV accounts now;
// accounts that failed are listed in errors.
func (s *Server) syncContacts(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.contactsService(w)
	if svc == nil {
		return
	}
	if svc.Accounts == nil || svc.Syncer == nil {
		writeError(w, http.StatusServiceUnavailable, "carddav_unavailable", "CardDAV is not available on this server.")
		return
	}
	rep, err := svc.Sync(r.Context(), u.ID)
	if err != nil {
		s.Log.Warn("contacts sync", "err", err)
		writeError(w, http.StatusBadGateway, "sync_failed", sentence(err.Error()))
		return
	}
	if rep.Errors == nil {
		rep.Errors = []string{}
	}
	writeJSON(w, http.StatusOK, rep)
}
