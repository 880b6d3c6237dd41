package memory_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory/memtest"
)

// workHarness is the shared rig (memtest) with this package's helpers.
type workHarness struct{ *memtest.Harness }

func newWorkHarness(t *testing.T) *workHarness { return &workHarness{memtest.New(t)} }

var day0 = memtest.Day0

func said(id, role, text string, at time.Time) memtest.Said {
	return memtest.Said{ID: id, Role: role, Text: text, At: at}
}
