package recall

import (
	"slices"
	"testing"
)

func TestQueryNames(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"What does Cathy do for work?", []string{"cathy"}},
		{"When is Catherine's birthday?", []string{"catherine"}},
		{"Which city is my sister in?", []string{"sister"}},
		{"Where is my best friend's wedding?", []string{"best friend"}},
		{"What did my father do?", []string{"father", "dad", "daddy", "papa"}},
		{"When did Rosa go to Paris?", []string{"rosa", "paris"}},
		{"what did i buy last week", nil},
		{"Where is the sister city?", nil}, // a relation word without a possessive is not a person
	} {
		if got := queryNames(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("queryNames(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

func TestIntroducedNames(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"My sister Catherine, everyone except our mom calls her Cathy, kept me on the phone.", []string{"sister", "catherine", "cathy"}},
		{"Dad is learning to text. His name is Robert but his friends call him Bob.", []string{"robert", "bob", "dad"}},
		{"My grandmother Ruth, Nana to all of us, sent a letter.", []string{"grandmother", "ruth", "nana"}},
		{"Jonah has been my best friend since seventh grade.", []string{"jonah", "best friend"}},
		// No introduction: names side by side are not the same person.
		{"Cathy and Bob came over for dinner.", nil},
		{"My sister called, and then Mom.", nil},
		{"I met my friend Jess at the cafe.", []string{"friend", "jess"}},
		// Calling someone is not naming them.
		{"My friend Jess called Tom today.", []string{"friend", "jess"}},
	} {
		if got := introducedNames(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("introducedNames(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
