package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Encryption (RFC 8291 on RFC 8188's aes128gcm), written on the standard
// library: the RFC's Section 5 example fixes the sender's key and the salt,
// so Encrypt takes both, and the test checks its output byte for byte.
// (webpush-go draws both itself from crypto/rand; since Go 1.26 crypto
// ignores a caller's random source anyway, so only an explicit key is
// deterministic. docs/security.md, "Web Push", has the decision.)

const (
	// RecordSize is the aes128gcm record size os1 declares: one record of
	// 4096 bytes, the size every push service accepts.
	RecordSize = 4096
	saltSize   = 16
	tagSize    = 16
	// headerSize is salt, record size, key ID length and the sender's key.
	headerSize = saltSize + 4 + 1 + uaPublicKeySize
	// MaxPlaintext is the most a message may hold: the 4096-byte body push
	// services accept, less the header, the tag and the padding delimiter.
	MaxPlaintext = RecordSize - headerSize - tagSize - 1
)

// Encrypt seals plaintext for the browser whose public key is uaPublic (65
// bytes) and whose authentication secret is authSecret (16 bytes), as RFC
// 8291 Section 3 says: sender is a fresh key pair for this message alone
// and salt 16 fresh random bytes; the result is the request body, sent with
// "Content-Encoding: aes128gcm". It is one record, unpadded.
func Encrypt(plaintext, uaPublic, authSecret []byte, sender *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("push message is %d bytes, more than the %d that fit", len(plaintext), MaxPlaintext)
	}
	if len(salt) != saltSize {
		return nil, fmt.Errorf("push salt is %d bytes, want %d", len(salt), saltSize)
	}
	if len(authSecret) != authSecretSize {
		return nil, fmt.Errorf("push auth secret is %d bytes, want %d", len(authSecret), authSecretSize)
	}
	ua, err := ecdh.P256().NewPublicKey(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("browser's push key: %w", err)
	}
	shared, err := sender.ECDH(ua)
	if err != nil {
		return nil, fmt.Errorf("push key agreement: %w", err)
	}
	asPublic := sender.PublicKey().Bytes()

	// RFC 8291 Section 3.4: the input keying material mixes the shared
	// secret with the browser's auth secret and both public keys.
	keyInfo := make([]byte, 0, 14+2*uaPublicKeySize)
	keyInfo = append(keyInfo, "WebPush: info\x00"...)
	keyInfo = append(keyInfo, uaPublic...)
	keyInfo = append(keyInfo, asPublic...)
	ikm, err := hkdf.Key(sha256.New, shared, authSecret, string(keyInfo), 32)
	if err != nil {
		return nil, fmt.Errorf("push key derivation: %w", err)
	}
	// RFC 8188 Section 2.2 and 2.3: content encryption key and nonce.
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, fmt.Errorf("push key derivation: %w", err)
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, fmt.Errorf("push key derivation: %w", err)
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, fmt.Errorf("push key derivation: %w", err)
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}

	out := make([]byte, headerSize, headerSize+len(plaintext)+1+tagSize)
	copy(out, salt)
	binary.BigEndian.PutUint32(out[saltSize:], RecordSize)
	out[saltSize+4] = uaPublicKeySize
	copy(out[saltSize+5:], asPublic)
	// The only (so the last) record: its delimiter is 2. Record 0 uses the
	// nonce as derived (its sequence number XORed in is zero).
	record := append(append(make([]byte, 0, len(plaintext)+1), plaintext...), 2)
	return gcm.Seal(out, nonce, record, nil), nil
}
