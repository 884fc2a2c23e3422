package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
)

func TestSigningKey(t *testing.T) {
	inDir(t, "")
	key := auth.GenerateSigningKey()
	file := filepath.Join(t.TempDir(), "signing-key")
	if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, vars := range []map[string]string{
		{"HF_MICRO_SIGNING_KEY": key},
		{"HF_MICRO_SIGNING_KEY_FILE": file},
	} {
		cfg, err := Load(nil, env(vars))
		if err != nil || cfg.Auth.SigningKey.IsZero() {
			t.Fatalf("%v: signing key set %v, err %v", vars, !cfg.Auth.SigningKey.IsZero(), err)
		}
		if out := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(out, key) || !strings.Contains(out, "SigningKey:REDACTED") {
			t.Errorf("%v: the config prints the signing key, or not as REDACTED", vars)
		}
	}

	cfg, err := Load(nil, env(nil))
	if err != nil || !cfg.Auth.SigningKey.IsZero() {
		t.Errorf("no setting: signing key set %v, err %v; want none", !cfg.Auth.SigningKey.IsZero(), err)
	}
}

func TestBadSigningKeysAreStartUpErrorsThatHideTheValue(t *testing.T) {
	inDir(t, "")
	key := auth.GenerateSigningKey()
	dir := t.TempDir()
	shortFile := filepath.Join(dir, "short")
	if err := os.WriteFile(shortFile, []byte(key[:40]), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		vars         map[string]string
		setting, bad string
	}{
		{map[string]string{"HF_MICRO_SIGNING_KEY": key[:62]}, "HF_MICRO_SIGNING_KEY", key[:62]},
		{map[string]string{"HF_MICRO_SIGNING_KEY": key[:63] + "g"}, "HF_MICRO_SIGNING_KEY", key[:63] + "g"},
		{map[string]string{"HF_MICRO_SIGNING_KEY": strings.Repeat("0", 64)}, "HF_MICRO_SIGNING_KEY", strings.Repeat("0", 64)},
		{map[string]string{"HF_MICRO_SIGNING_KEY_FILE": shortFile}, "HF_MICRO_SIGNING_KEY_FILE", key[:40]},
		{map[string]string{"HF_MICRO_SIGNING_KEY_FILE": filepath.Join(dir, "missing")}, "HF_MICRO_SIGNING_KEY_FILE", key},
		{map[string]string{"HF_MICRO_SIGNING_KEY": key, "HF_MICRO_SIGNING_KEY_FILE": shortFile}, "HF_MICRO_SIGNING_KEY_FILE", key},
	} {
		_, err := Load(nil, env(tc.vars))
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Setting != tc.setting {
			t.Errorf("%v: got %v, want a configuration error naming %s", tc.vars, err, tc.setting)
			continue
		}
		if strings.Contains(err.Error(), tc.bad) {
			t.Errorf("the error %q shows the value", err)
		}
	}
}
