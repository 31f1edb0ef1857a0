package target

import (
	"context"
	"errors"
	"io/fs"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

var _ coordinator.CommitLog = (*Target)(nil)

// Commits reads a plain Parquet table's load from its manifest: a commit
// replaces the table's files, so only the current load is there.
func (t *Target) Commits(ctx context.Context, table string) ([]coordinator.TableCommit, error) {
	m, err := t.ReadManifest(ctx, table)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := coordinator.TableCommit{Table: table, LoadID: m.LoadID, Committed: m.CommittedAt, Current: true, Rows: m.Rows,
		Failed: len(m.Failed)}
	files := map[messages.Source]bool{} // a split file is listed once per range
	for _, f := range m.Files {
		files[f.Source] = true
		c.Rejected += f.Rejected
	}
	c.Files = len(files)
	return []coordinator.TableCommit{c}, nil
}
