package webpush_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/os1ai/os1/internal/webpush"
	"github.com/os1ai/os1/internal/webpush/webpushtest"
)

// RFC 8291 Section 5 (and Appendix A): every value copied from the RFC.
const (
	rfcPlaintext = "When I grow up, I want to be a watermelon"
	rfcASPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
	rfcASPublic  = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
	rfcUAPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
	rfcUAPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	rfcSalt      = "DGv6ra1nlYgDCS1FRnbzlw"
	rfcAuth      = "BTBZMqHH6r4Tts7J_aSIgg"
	rfcBody      = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return b
}

// TestPushEncryptRFC8291Vector: with the RFC's sender key and salt, Encrypt
// gives the RFC's message byte for byte.
func TestPushEncryptRFC8291Vector(t *testing.T) {
	as, err := ecdh.P256().NewPrivateKey(unb64(t, rfcASPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(as.PublicKey().Bytes()); got != rfcASPublic {
		t.Fatalf("the RFC's sender public key: %s", got)
	}
	body, err := webpush.Encrypt([]byte(rfcPlaintext), unb64(t, rfcUAPublic), unb64(t, rfcAuth), as, unb64(t, rfcSalt))
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(body); got != rfcBody {
		t.Fatalf("encrypted message differs from RFC 8291 Section 5:\n got %s\nwant %s", got, rfcBody)
	}
	// And the test's own decryption (the browser's side) opens the RFC's message.
	plain, err := webpushtest.Decrypt(unb64(t, rfcBody), unb64(t, rfcUAPrivate), unb64(t, rfcAuth))
	if err != nil || string(plain) != rfcPlaintext {
		t.Fatalf("decrypting the RFC's message: %q, %v", plain, err)
	}
}

// A fresh key and salt give a message only the right browser opens.
func TestPushEncryptRoundTripAndWrongKeys(t *testing.T) {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	as, _ := ecdh.P256().GenerateKey(rand.Reader)
	salt := make([]byte, 16)
	rand.Read(salt)
	msg := bytes.Repeat([]byte("x"), webpush.MaxPlaintext)
	body, err := webpush.Encrypt(msg, ua.PublicKey().Bytes(), auth, as, salt)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) != webpush.RecordSize {
		t.Fatalf("a message of MaxPlaintext bytes is %d bytes on the wire, want %d", len(body), webpush.RecordSize)
	}
	if got, err := webpushtest.Decrypt(body, ua.Bytes(), auth); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip: %v", err)
	}
	other, _ := ecdh.P256().GenerateKey(rand.Reader)
	if _, err := webpushtest.Decrypt(body, other.Bytes(), auth); err == nil {
		t.Fatal("another browser's key opened the message")
	}
	if _, err := webpushtest.Decrypt(body, ua.Bytes(), make([]byte, 16)); err == nil {
		t.Fatal("a wrong auth secret opened the message")
	}
	if _, err := webpush.Encrypt(append(msg, 'x'), ua.PublicKey().Bytes(), auth, as, salt); err == nil {
		t.Fatal("a message over MaxPlaintext was encrypted")
	}
	if _, err := webpush.Encrypt(msg[:10], ua.PublicKey().Bytes()[:33], auth, as, salt); err == nil {
		t.Fatal("a compressed (or cut) browser key was taken")
	}
}
