package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// configDoc is the configuration reference the settings table must agree with.
const configDoc = "../../docs/configuration.md"

// docRow is one row of the reference's table: | `NAME` | flag | meaning | default |.
type docRow struct {
	flag, fallback string
}

var docNameRe = regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")

// readConfigDoc returns the reference's text and its table rows by the variables their first cell names.
func readConfigDoc(t *testing.T) (string, map[string]docRow) {
	t.Helper()
	raw, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]docRow{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || !strings.HasPrefix(line, "| `") {
			continue
		}
		row := docRow{flag: strings.TrimSpace(cells[2]), fallback: strings.Trim(strings.TrimSpace(cells[4]), "`")}
		for _, m := range docNameRe.FindAllStringSubmatch(cells[1], -1) {
			rows[m[1]] = row
		}
	}
	return string(raw), rows
}

// TestEverySettingIsDocumented holds docs/configuration.md to the settings table: every variable has a row with
// its flag and its default, and the token's variables are named.
func TestEverySettingIsDocumented(t *testing.T) {
	doc, rows := readConfigDoc(t)
	for _, s := range settings {
		row, ok := rows[s.env]
		if !ok {
			t.Errorf("%s: no row in %s", s.env, configDoc)
			continue
		}
		wantFlag := "—"
		if s.flag != "" {
			wantFlag = "`-" + s.flag + "`"
		}
		if row.flag != wantFlag {
			t.Errorf("%s: flag column %q, want %q", s.env, row.flag, wantFlag)
		}
		if !sameDefault(row.fallback, s.fallback) {
			t.Errorf("%s: default column %q, want %q", s.env, row.fallback, s.fallback)
		}
	}
	for _, name := range append(tokenVariables, "HF_TOKEN_FILE", "HF_TOKEN_PATH") {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("%s is not named in %s", name, configDoc)
		}
	}
}

// TestDocumentsNoRemovedSetting catches a row left behind when a setting goes away.
func TestDocumentsNoRemovedSetting(t *testing.T) {
	_, rows := readConfigDoc(t)
	known := map[string]bool{}
	for _, s := range settings {
		known[s.env] = true
	}
	for name := range rows {
		if strings.HasPrefix(name, "HF_MICRO_") && !known[name] {
			t.Errorf("%s documents %s, which the settings table does not have", configDoc, name)
		}
	}
}

// sameDefault compares a documented default with a fallback: equal text, equal durations (120s is 2m0s), or,
// for a setting without a fallback, any words that say what happens (none, any, off, ...).
func sameDefault(documented, fallback string) bool {
	if fallback == "" {
		return documented != ""
	}
	if documented == fallback {
		return true
	}
	d1, err1 := time.ParseDuration(documented)
	d2, err2 := time.ParseDuration(fallback)
	return err1 == nil && err2 == nil && d1 == d2
}
