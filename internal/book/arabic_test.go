package book

import "testing"

func TestShapeArabic(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"مريم", "\uFEE3\uFEAE\uFEF3\uFEE2"}, // initial meem, final reh (reh does not join on), initial yeh, final meem
		{"شكرا", "\uFEB7\uFEDC\uFEAE\uFE8D"}, // initial sheen, medial kaf, final reh, alef alone (reh does not join on)
		{"ب", "\uFE8F"},                      // one letter: isolated
		{"بِب", "\uFE91\u0650\uFE90"},        // a mark between letters does not break the join
		{"ءا", "\uFE80\uFE8D"},               // hamza joins nothing
	} {
		if got := shapeArabic(c.in); got != c.want {
			t.Errorf("shapeArabic(%q) = %+q, want %+q", c.in, got, c.want)
		}
	}
}
