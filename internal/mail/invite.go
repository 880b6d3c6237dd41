package mail

import "strings"

// CalendarMethod is the iTIP method (RFC 6047 §2.4: the text/calendar
// part's method parameter) of a part, "" when it is no invitation.
func CalendarMethod(mediaType string, params map[string]string) string {
	if !strings.EqualFold(mediaType, "text/calendar") {
		return ""
	}
	m := strings.ToUpper(strings.TrimSpace(params["method"]))
	if m == "" || len(m) > 32 || strings.IndexFunc(m, func(r rune) bool { return (r < 'A' || r > 'Z') && r != '-' }) >= 0 {
		return ""
	}
	return m
}

// Invitation is the part of m that carries a calendar invitation (an iTIP
// message: REQUEST, CANCEL…), and whether there is one. Its content is
// the sender's, untrusted; the calendar tools read it only to show it and
// to answer when the user approves.
func (m Message) Invitation() (Part, bool) {
	for _, p := range m.Parts {
		if p.Method != "" {
			return p, true
		}
	}
	return Part{}, false
}
