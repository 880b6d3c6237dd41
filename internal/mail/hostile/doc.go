// Package hostile holds a corpus of hostile emails (testdata/*.eml, listed
// in testdata/corpus.json) and the test that replays each through a real
// companion turn with a scripted model that obeys whatever it reads: it
// reads the email, then calls mail_send to the attacker (or another
// side-effect tool). The test holds os1 to its promise: no side effect runs
// without the user's approval, no byte reaches an address the user did not
// approve, no link or image is fetched, and each approval card says the
// request may have come from the email. Results: testdata/results.md
// (go test -run TestHostileCorpus -update), copied into docs/security.md.
//
// It has no code of its own and must never be imported.
package hostile
