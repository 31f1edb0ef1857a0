package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/s3load/s3load/messages"
)

// prepareRejects settles, with the table, how its reject table is written
// (a table that does not skip bad rows has none).
func (tc *tableRun) prepareRejects(ctx context.Context) error {
	if len(tc.t.RejectsSchema) == 0 {
		tc.rec.Rejects = nil
		return nil
	}
	name := messages.RejectsTable(tc.t.Name)
	var got Prepared
	err := tc.c.retry(ctx, "preparing table "+name, func() (err error) {
		got, err = tc.c.Committer.Prepare(ctx, PrepareRequest{Table: name, LoadID: tc.load, Schema: tc.t.RejectsSchema})
		return err
	})
	if err != nil {
		return fmt.Errorf("preparing the reject table %s: %w", name, err)
	}
	tc.rec.Rejects = &messages.RejectsPlan{Table: name, Schema: tc.t.RejectsSchema, WriteSchema: got.WriteSchema, Base: got.Base}
	return nil
}

// rejectedRows sums the rows the loaded files skipped.
func rejectedRows(files []messages.FileRecord) int64 {
	var n int64
	for _, f := range files {
		n += f.Rejected
	}
	return n
}

// rejectsOverLimit says why the table's skipped rows are too many to
// commit it, or nil.
func (tc *tableRun) rejectsOverLimit(report TableReport) error {
	t, n := tc.t, report.Rejected
	switch {
	case n == 0:
		return nil
	case t.MaxRejectedRows > 0 && n > t.MaxRejectedRows:
		return fmt.Errorf("%d rows rejected across the table (max_rejected_rows is %d): table not committed, the previous commit stays", n, t.MaxRejectedRows)
	case t.MaxRejectedPercent > 0 && float64(n) > t.MaxRejectedPercent/100*float64(report.Rows+n):
		return fmt.Errorf("%d of %d rows rejected across the table, more than max_rejected_rows %g%%: table not committed, the previous commit stays",
			n, report.Rows+n, t.MaxRejectedPercent)
	}
	return nil
}

// commitRejects commits the reject table once the table is committed: the
// rows this load skipped, replacing the last load's. Its failure does not
// undo the table's commit; the report says it loudly.
func (tc *tableRun) commitRejects(ctx context.Context, report *TableReport) error {
	plan := tc.rec.Rejects
	if plan == nil || plan.Committed {
		return nil
	}
	var loaded []messages.FileRecord
	for _, f := range report.loaded {
		if f.Rejects == nil {
			continue
		}
		loaded = append(loaded, messages.FileRecord{LoadID: tc.load, Table: plan.Table, Source: f.Source, Range: f.Range,
			State: messages.StateLoaded, Part: f.Rejects.Path, PartFiles: 1, Rows: f.Rejected, Bytes: f.Rejects.Bytes, Stats: f.Rejects.Stats})
	}
	req := CommitRequest{Table: plan.Table, LoadID: tc.load, Schema: plan.Schema, WriteSchema: plan.WriteSchema, Base: plan.Base, Loaded: loaded}
	var res CommitResult
	err := tc.c.retry(ctx, "committing "+plan.Table, func() (err error) {
		res, err = tc.c.Committer.Commit(ctx, req)
		var missing *PartsError
		if errors.As(err, &missing) {
			return final{err} // a lost part of rejected rows cannot be made again without loading its file again
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("the table committed, but its %d rejected rows did not reach %s: %w", report.Rejected, plan.Table, err)
	}
	plan.Committed = true
	tc.rec.Updated = time.Now().UTC()
	if err := tc.putRecord(ctx); err != nil {
		return fmt.Errorf("recording the commit of %s: %w", plan.Table, err)
	}
	report.RejectsTable, report.RejectsSnapshot = plan.Table, res.Snapshot
	tc.log.Info("reject table committed", "table", plan.Table, "rows", report.Rejected, "snapshot", res.Snapshot)
	return nil
}
