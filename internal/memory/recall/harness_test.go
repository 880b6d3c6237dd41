package recall_test

import (
	"time"

	"github.com/os1ai/os1/internal/memory/memtest"
)

var day0 = memtest.Day0

func said(id, role, text string, at time.Time) memtest.Said {
	return memtest.Said{ID: id, Role: role, Text: text, At: at}
}
