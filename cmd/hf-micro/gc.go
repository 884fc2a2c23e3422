package main

import "runtime/debug"

// gcPercent is the collector's target when GOGC is not set. hf-micro's live heap is a few MiB, and under Go's
// default (100) the collector runs again after every few MiB allocated: hundreds of collections a second
// under load, each with its fixed cost (stacks, roots, sweeping). At 400 the heap may grow to five times what
// is live before the next one; GOGC and GOMEMLIMIT still decide when an operator sets them.
const gcPercent = 400

// tuneGC sets the collector's target for a server process.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
