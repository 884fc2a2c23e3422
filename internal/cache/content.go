package cache

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Kind is how a content is hashed, and the store's folder for it.
type Kind string

const (
	SHA256  Kind = "sha256"   // LFS and Xet files: the Hub's X-Linked-Etag
	GitSHA1 Kind = "git-sha1" // regular files: the git blob id, the Hub's ETag
)

// Content names a file's bytes by their hash.
type Content struct {
	Kind Kind
	Hash string // lowercase hex
}

// ContentFromETags reads the content a Hub answer names: X-Linked-Etag (an LFS sha256) when present, else
// the ETag (a regular file's git blob sha1). Weak and quoted tags are read as the Hub writes them.
func ContentFromETags(linkedETag, etag string) (Content, bool) {
	if linkedETag != "" {
		c := Content{Kind: SHA256, Hash: unquote(linkedETag)}
		return c, c.valid()
	}
	c := Content{Kind: GitSHA1, Hash: unquote(etag)}
	return c, c.valid()
}

func unquote(tag string) string {
	return strings.ToLower(strings.Trim(strings.TrimPrefix(strings.TrimSpace(tag), "W/"), `"`))
}

func (c Content) valid() bool {
	n := 0
	switch c.Kind {
	case SHA256:
		n = 64
	case GitSHA1:
		n = 40
	default:
		return false
	}
	return len(c.Hash) == n && IsHex(c.Hash)
}

// IsHex reports whether s is lowercase hexadecimal.
func IsHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

func (c Content) String() string { return string(c.Kind) + ":" + c.Hash }

// hasher returns the hash that checks this content, of a file of size bytes.
func (c Content) hasher(size int64) hash.Hash {
	if c.Kind == GitSHA1 {
		h := sha1.New()
		fmt.Fprintf(h, "blob %d\x00", size)
		return h
	}
	return sha256.New()
}

func (c Content) matches(h hash.Hash) bool { return hex.EncodeToString(h.Sum(nil)) == c.Hash }
