package main

import "runtime/debug"

// gcPercent is the collector's target when GOGC is not set. hf-micro's live heap is about a MiB, so under Go's
// default (100) the heap goal sits at its 4 MiB minimum and the collector runs dozens of times a second under
// load, a tenth of a request's CPU at 32 connections in the profiles. At 200 the goal is 8 MiB: less than half
// as many collections for about 4 MiB more memory (docs/benchmarks.md measures both). 400 cost 11–14 MiB and
// took the cache scenario past its memory target, so it was not kept. GOGC and GOMEMLIMIT still decide when an
// operator sets them.
const gcPercent = 200

// tuneGC sets the collector's target for a server process.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
