package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: the server sets its own collector target only when the operator has not set GOGC.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	debug.SetGCPercent(123)
	tuneGC(func(name string) string {
		if name == "GOGC" {
			return "50" // the runtime read it at start; hf-micro leaves it alone
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 123 {
		t.Errorf("with GOGC set, the target became %d; want it left at 123", got)
	}

	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC, the target is %d; want %d", got, gcPercent)
	}
}
