package target

import (
	"context"
	"errors"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/s3store"
)

// The target is the coordinator's Committer and TableLocker.
var (
	_ coordinator.Committer   = (*Target)(nil)
	_ coordinator.TableLocker = (*Target)(nil)
)

// IsPermanent reports whether err is a problem of the target only a person
// can fix: a full disk, a target that refuses writes, a store without
// conditional writes, or a permanent store error (credentials, bucket).
func (t *Target) IsPermanent(err error) bool {
	return errors.Is(err, ErrNoSpace) || errors.Is(err, ErrNotWritable) || errors.Is(err, ErrNoConditionalWrites) ||
		s3store.IsPermanent(err)
}

// LockTable takes the table's lease for owner, for coordinator.TableLockTTL.
func (t *Target) LockTable(ctx context.Context, table string, owner coordinator.TableOwner) (coordinator.TableLock, error) {
	l, err := t.AcquireTable(ctx, table, LeaseOwner{Job: owner.Job, Load: owner.Load, Holder: owner.Holder}, coordinator.TableLockTTL)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// partsError turns a commit's PartsError into the coordinator's, which
// names the parts whose files are to be loaded again.
func partsError(err error) error {
	var pe *PartsError
	if !errors.As(err, &pe) {
		return err
	}
	paths := make([]string, len(pe.Parts))
	for i, p := range pe.Parts {
		paths[i] = p.Path
	}
	return &coordinator.PartsError{Parts: paths, Err: err}
}

// Prepare has nothing to settle for plain Parquet: parts are written in
// the decoded schema, and the commit replaces whatever the table holds.
func (t *Target) Prepare(context.Context, coordinator.PrepareRequest) (coordinator.Prepared, error) {
	return coordinator.Prepared{}, nil
}

// Commit commits the table as plain Parquet (see CommitManifest).
func (t *Target) Commit(ctx context.Context, req coordinator.CommitRequest) (coordinator.CommitResult, error) {
	m, err := t.CommitManifest(ctx, req)
	return coordinator.CommitResult{Manifest: m}, err
}
