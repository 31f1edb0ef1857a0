package coordinator

import (
	"context"

	"github.com/s3load/s3load/messages"
)

// recordHistory appends the ended load to the job's history. The tables'
// own metadata is the truth of what committed, so failing to costs only
// the history's view of this load: it is logged, never fails the load.
func (c *Coordinator) recordHistory(ctx context.Context, rec messages.LoadRecord) {
	if c.History == nil {
		return
	}
	if err := c.History.PutHistory(ctx, rec); err != nil {
		c.cfg.Logger.Warn("recording the load in the job's history", "load", rec.LoadID, "err", err)
	}
}

// keepSnapshots carries each table's snapshot over from the load's earlier
// run: a table committed then is not committed again when the load is
// finished later, so this run's report does not know its snapshot.
func keepSnapshots(now, before []messages.TableSummary) {
	snap := map[string]string{}
	for _, t := range before {
		if t.Committed && t.Snapshot != "" {
			snap[t.Table] = t.Snapshot
		}
	}
	for i, t := range now {
		if t.Committed && t.Snapshot == "" {
			now[i].Snapshot = snap[t.Table]
		}
	}
}
