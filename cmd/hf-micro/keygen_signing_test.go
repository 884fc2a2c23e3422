package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
)

func TestKeygenSigningKey(t *testing.T) {
	var printed []string
	for range 2 {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"hf-micro", "keygen", "--signing-key"}, func(string) string { return "" }, &stdout, &stderr)
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("err %v, stderr %q", err, stderr.String())
		}
		key := strings.TrimSuffix(stdout.String(), "\n")
		if _, err := auth.ParseSigningKey(key); err != nil || len(key) != 64 {
			t.Fatalf("printed %q, which HF_MICRO_SIGNING_KEY refuses: %v", key, err)
		}
		printed = append(printed, key)
	}
	if printed[0] == printed[1] {
		t.Error("two runs printed the same signing key")
	}
}
