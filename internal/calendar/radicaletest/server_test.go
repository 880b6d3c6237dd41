package radicaletest_test

import (
	"net/http"
	"testing"

	"github.com/os1ai/os1/internal/calendar/radicaletest"
)

// The harness starts radicale, lets a user in with their password only,
// and makes calendars the user can read.
func TestStart(t *testing.T) {
	s := radicaletest.Start(t)
	s.AddUser("ana", "secret")
	path := s.MakeCalendar("ana", "work", "Work")
	if r := s.Do("PROPFIND", "ana", path, "", ""); r.StatusCode != http.StatusMultiStatus {
		t.Fatalf("PROPFIND as ana: %s", r.Status)
	}
	s.AddUser("bob", "other")
	if r := s.Do("PROPFIND", "bob", path, "", ""); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusNotFound {
		t.Errorf("bob reads ana's calendar: %s", r.Status)
	}
	req, _ := http.NewRequest("PROPFIND", s.URL+"ana/", nil)
	req.SetBasicAuth("ana", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong password: %s", resp.Status)
	}
}
