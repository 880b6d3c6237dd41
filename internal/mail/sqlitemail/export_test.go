package sqlitemail

// QueryTerms is queryTerms, for tests.
var QueryTerms = queryTerms
