package clock

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"sync"
)

// IDs makes identifiers and secrets. Code that mints IDs takes an IDs so a
// test can swap RandomIDs for FakeIDs and know every ID in advance.
type IDs interface {
	// NewID returns a URL-safe identifier with the given prefix (for
	// example "msg_"): the prefix and 16 characters of lower-case base32.
	NewID(prefix string) string
	// Token returns a secret of n bytes, encoded URL-safe in base32.
	Token(n int) string
}

var b32 = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// RandomIDs draws IDs and tokens from crypto/rand. It is the default IDs.
type RandomIDs struct{}

var _ IDs = RandomIDs{}

// NewID returns prefix and 80 random bits; collisions are negligible.
func (RandomIDs) NewID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("clock: crypto/rand failed: " + err.Error())
	}
	return prefix + b32.EncodeToString(b[:])
}

// Token returns n random bytes, base32-encoded. Used for session cookies,
// API tokens and one-time links.
func (RandomIDs) Token(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("clock: crypto/rand failed: " + err.Error())
	}
	return b32.EncodeToString(b)
}

// NewID is RandomIDs{}.NewID, for callers that are not handed an IDs.
func NewID(prefix string) string { return RandomIDs{}.NewID(prefix) }

// Token is RandomIDs{}.Token, for callers that are not handed an IDs.
func Token(n int) string { return RandomIDs{}.Token(n) }

// FakeIDs is a deterministic IDs for tests: the k-th NewID (counting from
// 1) is prefix plus k in the same 16-character base32 form, so IDs sort in
// the order they were made ("msg_0000000000000001", "msg_0000000000000002",
// …); the k-th Token(n) encodes n bytes that end in k, big-endian. It is
// safe for concurrent use. The zero value is ready to use.
type FakeIDs struct {
	mu     sync.Mutex
	ids    uint64
	tokens uint64
}

var _ IDs = (*FakeIDs)(nil)

// NewFakeIDs returns a FakeIDs whose first ID and token are number 1.
func NewFakeIDs() *FakeIDs { return &FakeIDs{} }

// NewID returns the next ID in sequence.
func (f *FakeIDs) NewID(prefix string) string {
	f.mu.Lock()
	f.ids++
	k := f.ids
	f.mu.Unlock()
	var b [10]byte
	binary.BigEndian.PutUint64(b[2:], k)
	return prefix + b32.EncodeToString(b[:])
}

// Token returns the next token in sequence, n bytes long. Tokens shorter
// than 8 bytes keep only the low bytes of the count, so they repeat.
func (f *FakeIDs) Token(n int) string {
	f.mu.Lock()
	f.tokens++
	k := f.tokens
	f.mu.Unlock()
	b := make([]byte, max(n, 8))
	binary.BigEndian.PutUint64(b[len(b)-8:], k)
	return b32.EncodeToString(b[len(b)-n:])
}
