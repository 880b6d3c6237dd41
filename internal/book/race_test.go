//go:build race

package book

// underRace: the race detector makes typesetting a 5 MB letter take minutes,
// so TestPDFBadInput sets a 1 MB letter there; plain `go test` and
// BenchmarkBookLetter5MBPDF run the full 5 MB.
const underRace = true
