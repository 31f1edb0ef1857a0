package coordinator

import (
	"context"
	"time"

	"github.com/s3load/s3load/messages"
)

// listingAhead is a new load's listing of a table, started as the table's
// run begins. A listing mostly waits on the store, and what the run does
// first (taking the table's lock, opening its record, reading the
// committed load) needs none of it: only where to cut the listing into
// ranges comes from the committed load, and a SplitsReader tells that
// without reading the load's files. On one core this took the committed
// load's read and the lock out of a repeated load's path.
type listingAhead struct {
	done   chan struct{}
	cancel context.CancelFunc
	// Set before done is closed.
	pages  [][]messages.Source
	ranges int
	took   time.Duration
	err    error
}

// listAhead starts the table's listing, or returns nil where no
// SplitsReader is wired: the pre-flight then lists once it knows the
// committed load.
func (tc *tableRun) listAhead(ctx context.Context) *listingAhead {
	if tc.c.Splits == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &listingAhead{done: make(chan struct{}), cancel: cancel}
	go func() { // owned by stop, which the table's run defers.
		defer close(l.done)
		started := time.Now()
		splits := tc.splitsHint(ctx)
		l.pages, l.err = tc.c.listRanges(ctx, tc.t, splits)
		l.ranges, l.took = len(splits)+1, time.Since(started)
	}()
	return l
}

// splitsHint is where the committed load cut its listing, or nil: the
// splits only make the listing faster, so failing to read them, or splits
// out of order, cost a listing in one range, not the load.
func (tc *tableRun) splitsHint(ctx context.Context) []string {
	splits, err := tc.c.Splits.ListSplits(ctx, tc.t.Name)
	switch {
	case err != nil:
		tc.log.Debug("reading where the committed load cut its listing; listing in one range", "err", err)
		return nil
	case !validSplits(splits):
		tc.log.Warn("the committed load's listing splits are not keys in order; listing in one range", "splits", len(splits))
		return nil
	}
	return splits
}

// validSplits: at most ListRangesMax-1 keys, each after the one before.
func validSplits(splits []string) bool {
	if len(splits) >= ListRangesMax {
		return false
	}
	for i, s := range splits {
		if s == "" || i > 0 && s <= splits[i-1] {
			return false
		}
	}
	return true
}

// wait returns the listing's pages once it is done, handing them over: the
// listing keeps no reference to them.
func (l *listingAhead) wait(ctx context.Context) (pages [][]messages.Source, ranges int, took time.Duration, err error) {
	select {
	case <-l.done:
		pages, l.pages = l.pages, nil
		return pages, l.ranges, l.took, l.err
	case <-ctx.Done():
		return nil, 0, 0, context.Cause(ctx)
	}
}

// stop ends the listing if it still runs, and waits for it to end.
func (l *listingAhead) stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
}

// commitSplits are where the next load's listing is cut, from the keys of
// the files this load committed (loaded or failed): the next listing is
// mostly the same keys.
func commitSplits(report TableReport) []string {
	keys := make([]string, 0, len(report.loaded)+len(report.failed))
	for _, recs := range [][]messages.FileRecord{report.loaded, report.failed} {
		for _, f := range recs {
			keys = append(keys, f.Source.Key)
		}
	}
	return listSplits(keys)
}
