package sqlitemem

import (
	"slices"
	"testing"
)

// Text that holds the first marker pair itself still parses exactly: the
// markers are chosen from characters the text does not hold.
func TestParseMarksMarkerCollision(t *testing.T) {
	doc := "Maya \ue000said\ue001 hi to Maya"
	opening, closing := markers(doc)
	if opening == "\ue000" || closing == "\ue001" {
		t.Fatalf("markers(%q) = %q %q, which the text holds", doc, opening, closing)
	}
	marked := opening + "Maya" + closing + " \ue000said\ue001 hi to " + opening + "Maya" + closing
	got := parseMarks(doc, marked, opening, closing)
	want := [][2]int{{0, 4}, {len(doc) - 4, len(doc)}}
	if !slices.Equal(got, want) {
		t.Errorf("parseMarks = %v, want %v", got, want)
	}
	// Output that does not give the document back is refused.
	if got := parseMarks("other text", marked, opening, closing); got != nil {
		t.Errorf("parseMarks of a different text = %v, want nil", got)
	}
	if got := parseMarks("Maya", opening+"Maya", opening, closing); got != nil {
		t.Errorf("unclosed mark = %v, want nil", got)
	}
}
