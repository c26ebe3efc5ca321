package fleet

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// TokenPrefix starts every host token, so that one found in a file or a log
// is recognisable (and secret scanners can match it).
const TokenPrefix = "pht_"

// tokenBytes is the randomness of a host token.
const tokenBytes = 32

// TokenHash is the SHA-256 of a host token: all the server stores.
type TokenHash [sha256.Size]byte

// NewToken draws a host token from rand (crypto/rand.Reader outside
// tests): TokenPrefix and 32 random bytes in unpadded base64url.
func NewToken(rand io.Reader) (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("drawing a token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hash the server keeps of token.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

// ValidToken reports whether s has the form NewToken makes; a server hashes
// and looks up only tokens that do, so garbage costs no database query.
func ValidToken(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
