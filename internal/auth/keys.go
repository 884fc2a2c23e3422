package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// KeyPrefix starts every generated client key. The "hf_" keeps @huggingface/hub, which refuses tokens that do
// not start with it, usable with a key; the rest tells a key apart from a caller's own Hub token.
const KeyPrefix = "hf_micro_"

// minKeyLength refuses keys short enough to guess; a generated key is 35 characters.
const minKeyLength = 24

// GenerateKey returns a new random client key, about 130 bits of randomness.
func GenerateKey() string { return KeyPrefix + rand.Text() }

// KeyDigest is the hex SHA-256 of a key: what the access file keeps instead of the key.
func KeyDigest(key string) string {
	digest := sha256.Sum256([]byte(key))
	return hex.EncodeToString(digest[:])
}

// Keys is the set of configured client keys. It keeps only their SHA-256 digests: the keys themselves are
// never stored, printed or logged.
type Keys struct {
	digests [][sha256.Size]byte
	ids     []string
}

// ParseKeys checks and hashes the configured keys. Blank entries are skipped.
func ParseKeys(raw []string) (*Keys, error) {
	k := &Keys{}
	for i, key := range raw {
		key = strings.TrimSpace(key)
		if key == "" {
			continue
		}
		if len(key) < minKeyLength {
			return nil, fmt.Errorf("key %d is shorter than %d characters; make one with `hf-micro keygen`", i+1, minKeyLength)
		}
		if strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f || r == ',' }) {
			return nil, fmt.Errorf("key %d contains a space, comma or control character", i+1)
		}
		digest := sha256.Sum256([]byte(key))
		k.digests = append(k.digests, digest)
		k.ids = append(k.ids, keyID(digest))
	}
	return k, nil
}

// keyID names a key in logs: the start of its digest, which cannot be turned back into the key.
func keyID(digest [sha256.Size]byte) string { return hex.EncodeToString(digest[:4]) }

// Len is the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.digests)
}

// Match reports whether candidate is a configured key, and its id. Every key is compared, in constant time,
// so the timing tells nothing about which or how much matched.
func (k *Keys) Match(candidate string) (id string, ok bool) {
	if k.Len() == 0 {
		return "", false
	}
	digest := sha256.Sum256([]byte(candidate))
	found := -1
	for i := range k.digests {
		if subtle.ConstantTimeCompare(digest[:], k.digests[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return k.ids[found], true
}
