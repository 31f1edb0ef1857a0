package coordinator

import (
	"sync"

	"github.com/s3load/s3load/messages"
)

// Progress returns the load's progress as this coordinator sees it now:
// the live view behind the progress bars, the status page, the metrics and
// `s3load status`. Safe to call from any goroutine.
func (c *Coordinator) Progress() messages.ProgressRecord {
	return c.progress.snapshot()
}

// tracker holds the live progress of the load a coordinator carries.
type tracker struct {
	mu  sync.Mutex
	rec messages.ProgressRecord
}

func (t *tracker) snapshot() messages.ProgressRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.rec
	rec.Tables = append([]messages.TableProgress(nil), t.rec.Tables...)
	return rec
}
