package lake

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/s3load/s3load/coordinator"
)

// LockTable takes the table in the target, as for plain Parquet.
func (c *Committer) LockTable(ctx context.Context, table string, owner coordinator.TableOwner) (coordinator.TableLock, error) {
	return c.cfg.Target.LockTable(ctx, table, owner)
}

// Sweep removes the data of loads that no snapshot references (failed or
// abandoned loads, snapshots expired) except keep's: an Iceberg table's
// older snapshots read their own loads' files, so those stay until the
// snapshots expire.
func (c *Committer) Sweep(ctx context.Context, table string, keep ...string) error {
	tbl, err := c.cfg.Catalog.LoadTable(ctx, c.ident(table))
	if err != nil {
		if isNoSuchTable(err) {
			return c.cfg.Target.Sweep(ctx, table, keep...)
		}
		return fmt.Errorf("sweeping %s: %w", table, err)
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		return fmt.Errorf("sweeping %s: %w", table, err)
	}
	loc := strings.TrimRight(tbl.Location(), "/") + "/data/"
	referenced := map[string]bool{}
	for _, snap := range tbl.Metadata().Snapshots() {
		files, err := snapshotFiles(fsys, snap)
		if err != nil {
			return fmt.Errorf("sweeping %s: %w", table, err)
		}
		for _, f := range files {
			if rel, ok := strings.CutPrefix(f.FilePath(), loc); ok {
				referenced[path.Dir(rel)] = true
			}
		}
	}
	for load := range referenced {
		keep = append(keep, load)
	}
	return c.cfg.Target.Sweep(ctx, table, keep...)
}
