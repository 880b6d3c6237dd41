package contacts_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/contacts"
)

func TestParseVCFKeepsGoodCardsAndNamesBadOnes(t *testing.T) {
	f, err := os.Open("testdata/mixed.vcf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cs, bad, err := contacts.ParseVCF(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || len(bad) != 2 {
		t.Fatalf("read %d cards and %d errors, want 2 and 2: %+v %v", len(cs), len(bad), cs, bad)
	}
	if bad[0].Index != 2 || !strings.Contains(bad[0].Error(), "no name") {
		t.Errorf("first error: %v", bad[0])
	}
	if bad[1].Index != 4 || !strings.Contains(bad[1].Error(), "Bad Date") || !strings.Contains(bad[1].Error(), "not a date") {
		t.Errorf("second error: %v", bad[1])
	}
	c := cs[0]
	if c.Name != "Catherine Lima" || c.UID != "cat-1" || c.Relation != "sister" || c.Birthday != "1990-04-12" {
		t.Fatalf("card: %+v", c)
	}
	if strings.Join(c.OtherNames, "|") != "Cathy|Cat" {
		t.Errorf("nicknames: %q", c.OtherNames)
	}
	want := []contacts.Handle{{Kind: "email", Value: "cathy@example.org", Label: "home"},
		{Kind: "phone", Value: "+34 600 111 222", Label: "cell"},
		{Kind: "address", Value: "1 Rua Nova, Lisbon, 1000-001, Portugal", Label: "home"}}
	if fmt.Sprint(c.Handles) != fmt.Sprint(want) {
		t.Errorf("handles:\n got %v\nwant %v", c.Handles, want)
	}
	if cs[1].Birthday != "--02-29" {
		t.Errorf("a birthday without a year: %q", cs[1].Birthday)
	}
}

func TestParseVCFRefusesAFileWithoutCards(t *testing.T) {
	if _, _, err := contacts.ParseVCF(strings.NewReader("hello\nworld\n")); err == nil {
		t.Fatal("a text file read as contacts")
	}
}

// Writing a contact back keeps the fields os1 does not know (ORG) and the
// parameters of a handle it kept; edits show.
func TestToCardKeepsUnknownFieldsAndWritesEdits(t *testing.T) {
	f, _ := os.ReadFile("testdata/mixed.vcf")
	cs, _, _ := contacts.ParseVCF(bytes.NewReader(f))
	c := cs[0]
	c.Handles = append(c.Handles, contacts.Handle{Kind: "email", Value: "cat@work.example", Label: "work"})
	c.Relation, c.Birthday = "", "--04-12"
	var buf bytes.Buffer
	if err := contacts.WriteVCF(&buf, []contacts.Contact{c}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"ORG:Lima & Co", "EMAIL;TYPE=INTERNET;TYPE=HOME:cathy@example.org", "EMAIL;TYPE=work:cat@work.example", "BDAY:--04-12", "UID:cat-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("written card lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "X-OS1-RELATION") {
		t.Errorf("a removed relation is still written:\n%s", out)
	}
	back, bad, err := contacts.ParseVCF(&buf)
	if err != nil || len(bad) != 0 || len(back) != 1 {
		t.Fatalf("read back: %v %v %v", back, bad, err)
	}
	if handleSet(back[0].Handles) != handleSet(c.Handles) || back[0].Name != c.Name || back[0].Birthday != "--04-12" {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back[0], c)
	}
}

// handleSet is handles in a fixed order (a vCard groups them by kind).
func handleSet(hs []contacts.Handle) string {
	ss := make([]string, len(hs))
	for i, h := range hs {
		ss[i] = fmt.Sprint(h)
	}
	slices.Sort(ss)
	return strings.Join(ss, "\n")
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{"1990-04-12": "1990-04-12", "19900412": "1990-04-12", "--0412": "--04-12",
		"--04-12": "--04-12", "1990-04-12T00:00:00Z": "1990-04-12", "--0229": "--02-29"} {
		d, err := contacts.ParseDate(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, in := range []string{"", "1990-02-30", "1991-02-29", "12/04/1990", "1990-4-12", "--13-01", "abcd-ef-gh"} {
		if _, err := contacts.ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) accepted", in)
		}
	}
}

func TestNextBirthday(t *testing.T) {
	lis, _ := time.LoadLocation("Europe/Lisbon")
	from := time.Date(2027, 3, 1, 15, 0, 0, 0, lis)
	for in, want := range map[string]string{"1990-03-01": "2027-03-01", "1990-02-28": "2028-02-28", "--02-29": "2028-02-29", "2000-12-31": "2027-12-31"} {
		d, _ := contacts.ParseDate(in)
		got := d.Next(from)
		if got.Format(time.DateOnly) != want || got.Location() != lis || got.Hour() != 0 {
			t.Errorf("Next(%s) = %v, want %s midnight in Lisbon", in, got, want)
		}
	}
	d, _ := contacts.ParseDate("--02-29")
	if got := d.Next(time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)); got.Format(time.DateOnly) != "2026-02-28" {
		t.Errorf("29 February in 2026: %v, want 28 February", got)
	}
}

// A bad vCard is an error for its card, never a panic, and every card read
// can be written and read back.
func FuzzParseVCF(f *testing.F) {
	seed, _ := os.ReadFile("testdata/mixed.vcf")
	f.Add(string(seed))
	f.Add("BEGIN:VCARD\r\nFN:x\r\nN:;;;;\r\nADR:;;;;;;;;;\r\nEND:VCARD\r\n")
	f.Add("BEGIN:VCARD\nFN;TYPE=\"a:b\":A\n item1.EMAIL:a@b\nEND:VCARD\nBEGIN:VCARD\n")
	f.Add("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nBDAY:--0230\r\nTEL:tel:\r\nEND:VCARD")
	f.Fuzz(func(t *testing.T, s string) {
		cs, bad, err := contacts.ParseVCF(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, b := range bad {
			if b.Err == nil || b.Error() == "" || b.Index < 1 {
				t.Fatalf("an import error without a reason: %+v", b)
			}
		}
		var buf bytes.Buffer
		if err := contacts.WriteVCF(&buf, cs); err != nil {
			t.Fatalf("write back %+v: %v", cs, err)
		}
		if len(cs) == 0 {
			return
		}
		back, bad2, err := contacts.ParseVCF(&buf)
		if err != nil || len(back)+len(bad2) != len(cs) {
			t.Fatalf("read back %d cards: %d + %d errors, %v\n%s", len(cs), len(back), len(bad2), err, buf.String())
		}
	})
}

// A vCard 4 keeps its version and gets dates in ISO 8601's basic form.
func TestToCardWritesVCard4Dates(t *testing.T) {
	c, err := contacts.ParseCard("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ana\r\nBDAY:19910704\r\nEND:VCARD\r\n")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := contacts.WriteVCF(&buf, []contacts.Contact{c}); err != nil || !strings.Contains(buf.String(), "BDAY:19910704") || !strings.Contains(buf.String(), "VERSION:4.0") {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	c.Birthday = "--07-04"
	buf.Reset()
	if err := contacts.WriteVCF(&buf, []contacts.Contact{c}); err != nil || !strings.Contains(buf.String(), "BDAY:--0704") {
		t.Fatalf("%v\n%s", err, buf.String())
	}
}
