package coordinator

import (
	"context"

	"github.com/s3load/s3load/messages"
)

// listAhead starts a new load's listing of the table as the table's run
// begins. A listing mostly waits on the store, and what the run does first
// (taking the table's lock, opening its record, reading the committed
// load) needs none of it: only where to cut the listing into ranges comes
// from the committed load, and a SplitsReader tells that without reading
// the load's files. On one core this took the committed load's read and
// the lock out of a repeated load's path. Where no SplitsReader is wired
// it returns nil: the pre-flight then lists once it knows the committed
// load.
func (tc *tableRun) listAhead(ctx context.Context) *liveListing {
	if tc.c.Splits == nil {
		return nil
	}
	return tc.c.startListing(ctx, tc.t, tc.splitsHint)
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
