package lake

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/s3load/s3load/coordinator"
)

var _ coordinator.CommitLog = (*Committer)(nil)

// Commits reads the table's loads from the summaries of the snapshots s3load
// committed that the table still keeps (keep_snapshots), newest first: the
// catalog's record, whatever became of the state store.
func (c *Committer) Commits(ctx context.Context, name string) ([]coordinator.TableCommit, error) {
	ident := c.ident(name)
	tbl, err := c.cfg.Catalog.LoadTable(ctx, ident)
	if isNoSuchTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading table %s: %w", strings.Join(ident, "."), err)
	}
	var current int64 = -1
	if s := tbl.CurrentSnapshot(); s != nil {
		current = s.SnapshotID
	}
	var out []coordinator.TableCommit
	for _, s := range tbl.Metadata().Snapshots() {
		if s.Summary == nil || s.Summary.Properties[LoadIDProperty] == "" {
			continue // not s3load's
		}
		p := s.Summary.Properties
		num := func(key string) int64 {
			n, _ := strconv.ParseInt(p[key], 10, 64) // absent: 0
			return n
		}
		out = append(out, coordinator.TableCommit{
			Table: name, LoadID: p[LoadIDProperty], Job: p[JobProperty],
			Committed: time.UnixMilli(s.TimestampMs).UTC(),
			Snapshot:  strconv.FormatInt(s.SnapshotID, 10), Current: s.SnapshotID == current,
			Rows: num("total-records") - num("total-position-deletes"), Files: int(num("s3load.files")), Failed: int(num("s3load.failed-files")),
			Rejected: num(RejectedRowsProperty),
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Committed.After(out[j].Committed) })
	return out, nil
}
