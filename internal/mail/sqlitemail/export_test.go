package sqlitemail

// QueryTerms is queryTerms, for tests.
var QueryTerms = queryTerms

// SetMaxMatches sets how many rows one search ranks, so tests reach the
// common-words path with a few messages.
func (s *Store) SetMaxMatches(n int) { s.maxMatches = n }

// SeqRanges is seqRanges, for tests.
var SeqRanges = seqRanges
