package budget

import (
	"time"

	"github.com/hf-micro/hf-micro/internal/fakeclock"
)

// epoch is a start time on a five-minute boundary, so tests know where windows begin.
var epoch = time.Unix(1_800_000_000, 0)

// newFakeClock is the clock the stores read in tests: time moves only when a test says so.
func newFakeClock() *fakeclock.Clock { return fakeclock.New(epoch) }
