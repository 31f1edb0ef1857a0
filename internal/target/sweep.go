package target

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/s3load/s3load/messages"
)

// Sweep removes the table's staged loads (local directories, S3 load
// prefixes) other than the committed one and keep, so parts of failed or
// abandoned loads do not hold space. Call it holding the table's lease,
// with the holding load in keep: while a load not in keep holds a fresh
// lease, Sweep removes nothing and returns a *BusyError, since that load
// may be writing.
func (t *Target) Sweep(ctx context.Context, table string, keep ...string) error {
	return t.SweepExcept(ctx, table, func(load string) (bool, error) { return slices.Contains(keep, load), nil })
}

// SweepExcept is Sweep asking keep of each staged load (other than the
// committed one) whether it stays, for a caller whose answer costs reads
// it can stop once every load is answered (an Iceberg table's snapshots).
// An error from keep stops the sweep: nothing more is removed.
func (t *Target) SweepExcept(ctx context.Context, table string, keep func(load string) (bool, error)) error {
	if err := checkName("table", table); err != nil {
		return fmt.Errorf("sweeping: %w", err)
	}
	cur, _, err := t.leases().read(ctx, table)
	if err != nil {
		return fmt.Errorf("sweeping %s: %w", table, err)
	}
	// Each load is asked once (an S3 load is many keys), and after an
	// error none is removed.
	answers := map[string]bool{}
	if cur != nil && !cur.Released && !cur.stale(t.now(), DefaultLeaseTTL) {
		held, err := keep(cur.Load)
		if err != nil {
			return fmt.Errorf("sweeping %s: %w", table, err)
		}
		if !held {
			return fmt.Errorf("sweeping: %w", &BusyError{Table: table, Holder: cur.owner(), Renewed: cur.Renewed, TTL: cur.ttl(DefaultLeaseTTL)})
		}
		answers[cur.Load] = true
	}
	var kerr error
	stays := func(load string) bool {
		if kerr != nil {
			return true
		}
		k, asked := answers[load]
		if !asked {
			if k, kerr = keep(load); kerr != nil {
				return true
			}
			answers[load] = k
		}
		return k
	}
	if t.s3 != nil {
		err = t.s3.sweep(ctx, table, stays)
	} else {
		err = t.local.sweep(table, stays)
	}
	if kerr != nil {
		return errors.Join(fmt.Errorf("sweeping %s: %w", table, kerr), err)
	}
	return err
}

func (l *localFS) sweep(table string, stays func(load string) bool) error {
	var committed string
	var err error
	if !l.layout.iceberg() { // an Iceberg table's loads to keep are what stays says
		if committed, err = l.committedLoad(table); err != nil {
			return fmt.Errorf("sweeping %s: %w", table, err)
		}
	}
	err = l.removeLoads(table, func(load string) bool { return load != committed && !stays(load) })
	// Links a commit made but died before renaming over the table.
	entries, rerr := os.ReadDir(l.root)
	if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, localErr("sweeping "+table, l.root, rerr))
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), linkTmpPrefix(table)) {
			if rerr := os.Remove(filepath.Join(l.root, e.Name())); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, localErr("sweeping "+table, l.root, rerr))
			}
		}
	}
	if err != nil {
		return fmt.Errorf("sweeping %s: %w", table, err)
	}
	return nil
}

func (s *s3Target) sweep(ctx context.Context, table string, stays func(load string) bool) error {
	committed := map[string]bool{}
	key := s.tableKey(table, ManifestName)
	data, err := s.store.Get(ctx, s.bucket, key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("sweeping %s: reading its manifest: %w", table, err)
	default:
		m, err := messages.Unmarshal[messages.Manifest](data)
		if err != nil {
			return fmt.Errorf("sweeping %s: decoding %s: %w", table, s.url(key), err)
		}
		// Every load the manifest names stays, whatever the reader follows.
		committed[m.LoadID] = true
		for _, p := range m.Parts {
			load, _, _ := strings.Cut(p.Path, "/")
			committed[load] = true
		}
	}
	if err := s.removeLoads(ctx, table, func(load string) bool { return !committed[load] && !stays(load) }); err != nil {
		return fmt.Errorf("sweeping %s: %w", table, err)
	}
	return nil
}
