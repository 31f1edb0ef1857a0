package lake

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

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
	refs := newReferences(fsys, tbl)
	return c.cfg.Target.SweepExcept(ctx, table, func(load string) (bool, error) {
		if slices.Contains(keep, load) {
			return true, nil
		}
		return refs.has(load)
	})
}

// references tells which loads' directories a table's snapshots reference,
// reading their manifests newest first and only until it can tell: every
// snapshot's manifests were 100 ms of a repeated load's second, read beside
// its listing, where the current snapshot's alone tell of all but garbage.
type references struct {
	fsys      icebergio.IO
	loc       string
	snapshots []table.Snapshot // not yet read, newest last
	manifests map[string]bool  // read already (snapshots share them)
	loads     map[string]bool  // referenced
}

func newReferences(fsys icebergio.IO, tbl *table.Table) *references {
	r := &references{fsys: fsys, loc: strings.TrimRight(tbl.Location(), "/") + "/data/",
		snapshots: slices.Clone(tbl.Metadata().Snapshots()), manifests: map[string]bool{}, loads: map[string]bool{}}
	slices.SortStableFunc(r.snapshots, func(a, b table.Snapshot) int { return cmp.Compare(a.TimestampMs, b.TimestampMs) })
	// A retained snapshot's load holds the files that load added: its
	// directory stays without reading a manifest.
	for _, s := range r.snapshots {
		if s.Summary != nil && s.Summary.Properties[LoadIDProperty] != "" {
			r.loads[s.Summary.Properties[LoadIDProperty]] = true
		}
	}
	return r
}

// has says whether a snapshot references a file of load's directory.
func (r *references) has(load string) (bool, error) {
	for !r.loads[load] && len(r.snapshots) > 0 {
		snap := r.snapshots[len(r.snapshots)-1]
		r.snapshots = r.snapshots[:len(r.snapshots)-1]
		manifests, err := snap.Manifests(r.fsys)
		if err != nil {
			return false, fmt.Errorf("reading the manifests of snapshot %d: %w", snap.SnapshotID, err)
		}
		for _, m := range manifests {
			if r.manifests[m.FilePath()] {
				continue
			}
			r.manifests[m.FilePath()] = true
			files, err := manifestFiles(r.fsys, m)
			if err != nil {
				return false, err
			}
			for _, f := range files {
				if rel, ok := strings.CutPrefix(f.FilePath(), r.loc); ok {
					r.loads[path.Dir(rel)] = true
				}
			}
		}
	}
	return r.loads[load], nil
}
