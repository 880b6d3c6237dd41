package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// A device cookie says "this browser signed in as this user before". Login
// throttling per username skips attempts that carry one, so someone guessing
// a user's password from elsewhere slows down only themselves and never locks
// the real user out (OWASP's device-cookie scheme). The value is
// username.expiry.mac with an HMAC-SHA256 under a server key.

// SignDevice returns a device cookie value for username valid until exp.
func SignDevice(key []byte, username string, exp time.Time) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(username)) + "." + strconv.FormatInt(exp.Unix(), 10)
	return body + "." + deviceMAC(key, body)
}

// VerifyDevice reports whether value is a device cookie for username that
// has not expired at now.
func VerifyDevice(key []byte, value, username string, now time.Time) bool {
	i := strings.LastIndexByte(value, '.')
	if i < 0 || len(key) == 0 {
		return false
	}
	body, mac := value[:i], value[i+1:]
	if !hmac.Equal([]byte(mac), []byte(deviceMAC(key, body))) {
		return false
	}
	name, expS, ok := strings.Cut(body, ".")
	if !ok {
		return false
	}
	n, err := base64.RawURLEncoding.DecodeString(name)
	if err != nil || string(n) != username {
		return false
	}
	exp, err := strconv.ParseInt(expS, 10, 64)
	return err == nil && now.Unix() < exp
}

func deviceMAC(key []byte, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("os1 device cookie\x00" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
