package sqltime

import (
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, in := range []time.Time{
		{},
		time.Date(2026, 3, 29, 2, 30, 0, 123456789, berlin),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
	} {
		v, err := Value(in).Value()
		if err != nil {
			t.Fatal(err)
		}
		var out time.Time
		if err := (Scanner{T: &out}).Scan(v); err != nil {
			t.Fatal(err)
		}
		if !out.Equal(in) {
			t.Errorf("%v came back as %v", in, out)
		}
	}
	a, _ := Value(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)).Value()
	b, _ := Value(time.Date(2026, 1, 2, 3, 4, 5, 70, time.UTC)).Value()
	if a.(string) >= b.(string) {
		t.Errorf("text order is not time order: %v vs %v", a, b)
	}
	if _, err := Value(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)).Value(); err == nil {
		t.Error("year 10000 accepted")
	}
	var out time.Time
	if err := (Scanner{T: &out}).Scan(42); err == nil {
		t.Error("an integer was accepted as a time")
	}
}
