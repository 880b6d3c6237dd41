package books

import "testing"

// A letter whose first line is a heading with its own title (a title taken
// from the first line) does not print the title twice; any other first
// line stays.
func TestDropTitleHeading(t *testing.T) {
	for _, tc := range []struct{ title, body, want string }{
		{"Note to self", "# Note to self\n\n- buy flowers\n", "\n- buy flowers\n"},
		{"Note to self", "\n\n## note to SELF ##\nText", "Text"},
		{"Chris at fifty", "# Dear Chris\n\nText", "# Dear Chris\n\nText"},
		{"Dear Chris,", "Dear Chris,\n\nText", "Dear Chris,\n\nText"},
		{"#hashtag", "#hashtag\nText", "#hashtag\nText"},
		{"Title", "# Title", "# Title"},
		{"Title", "", ""},
	} {
		if got := dropTitleHeading(tc.title, tc.body); got != tc.want {
			t.Errorf("dropTitleHeading(%q, %q) = %q, want %q", tc.title, tc.body, got, tc.want)
		}
	}
}
