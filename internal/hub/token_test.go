package hub

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestTokenNeverPrints(t *testing.T) {
	const secret = "hf_verysecretvalue123"
	tok := NewToken(secret)
	holder := struct {
		Token  Token
		hidden Token
	}{tok, tok}
	client, err := New(Options{Endpoint: "https://hub.example", Token: tok})
	if err != nil {
		t.Fatal(err)
	}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "token", tok, "holder", holder, "client", client)
	asJSON, _ := json.Marshal(holder)
	outputs := []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %s %q %#v %+v", tok, tok, tok, tok, tok),
		fmt.Sprintf("%v %+v %#v", holder, holder, holder),
		fmt.Sprintf("%v %+v", client, *client),
		logged.String(), string(asJSON),
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("token leaked in %q", out)
		}
	}
	if !strings.Contains(outputs[0], "REDACTED") {
		t.Errorf("token prints as %q, want REDACTED", outputs[0])
	}
	if got := tok.authorization(); len(got) != 1 || got[0] != "Bearer "+secret || !NewToken("").IsZero() || tok.IsZero() {
		t.Error("token does not keep its value")
	}
}

func TestTokenDigest(t *testing.T) {
	if _, ok := (Token{}).Digest(); ok {
		t.Error("no token has a digest")
	}
	d, ok := NewToken("hf_secret").Digest()
	if !ok || d != sha256.Sum256([]byte("hf_secret")) {
		t.Errorf("digest %x, %v", d, ok)
	}
}
