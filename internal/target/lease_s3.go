package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/s3load/s3load/internal/s3store"
)

// s3Leases keeps a table's lease in <prefix>/<table>/_lease.json, created
// with If-None-Match: * and replaced with If-Match: <etag>, so the store
// lets only one writer through.
type s3Leases struct{ s *s3Target }

const leaseObjectName = "_lease.json"

func (s s3Leases) read(ctx context.Context, table string) (*leaseRecord, leaseVersion, error) {
	key := s.s.tableKey(table, leaseObjectName)
	data, etag, err := s.s.store.GetWithETag(ctx, s.s.bucket, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, leaseVersion{}, nil
	}
	if err != nil {
		return nil, leaseVersion{}, fmt.Errorf("reading the lease of %s: %w", table, err)
	}
	var rec leaseRecord
	if json.Unmarshal(data, &rec) != nil || rec.Token == "" {
		// A PUT is whole, so this is not a lease being written but junk:
		// stale at once (Renewed is the zero time).
		rec = leaseRecord{Holder: "an unreadable lease " + s.s.url(key)}
	}
	return &rec, leaseVersion{etag: etag}, nil
}

func (s s3Leases) swap(ctx context.Context, table string, prev leaseVersion, rec leaseRecord) (leaseVersion, error) {
	key := s.s.tableKey(table, leaseObjectName)
	data, err := json.Marshal(rec)
	if err != nil {
		return leaseVersion{}, fmt.Errorf("encoding the lease of %s: %w", table, err)
	}
	var etag string
	if prev.etag == "" {
		etag, err = s.s.store.PutIfAbsent(ctx, s.s.bucket, key, data)
	} else {
		etag, err = s.s.store.PutIfMatch(ctx, s.s.bucket, key, data, prev.etag)
	}
	if errors.Is(err, s3store.ErrPreconditionFailed) {
		return leaseVersion{}, fmt.Errorf("%w: %w", errLeaseRace, err)
	}
	if notImplemented(err) {
		return leaseVersion{}, fmt.Errorf("writing the lease of %s: %w: %s: %w; use a store that supports them", table, ErrNoConditionalWrites, s.s.url(key), err)
	}
	if err != nil {
		return leaseVersion{}, storeErr("writing the lease of "+table, s.s.url(key), err)
	}
	return leaseVersion{etag: etag}, nil
}
