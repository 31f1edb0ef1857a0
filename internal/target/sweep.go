package target

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	if err := checkName("table", table); err != nil {
		return fmt.Errorf("sweeping: %w", err)
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	cur, _, err := t.leases().read(ctx, table)
	if err != nil {
		return fmt.Errorf("sweeping %s: %w", table, err)
	}
	if cur != nil && !cur.Released && !kept[cur.Load] && !cur.stale(t.now(), DefaultLeaseTTL) {
		return fmt.Errorf("sweeping: %w", &BusyError{Table: table, Holder: cur.owner(), Renewed: cur.Renewed, TTL: cur.ttl(DefaultLeaseTTL)})
	}
	if t.s3 != nil {
		return t.s3.sweep(ctx, table, kept)
	}
	return t.local.sweep(table, kept)
}

func (l *localFS) sweep(table string, kept map[string]bool) error {
	var committed string
	var err error
	if !l.layout.iceberg() { // an Iceberg table's loads to keep are in kept
		if committed, err = l.committedLoad(table); err != nil {
			return fmt.Errorf("sweeping %s: %w", table, err)
		}
	}
	err = l.removeLoads(table, func(load string) bool { return load != committed && !kept[load] })
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

func (s *s3Target) sweep(ctx context.Context, table string, kept map[string]bool) error {
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
	if err := s.removeLoads(ctx, table, func(load string) bool { return !committed[load] && !kept[load] }); err != nil {
		return fmt.Errorf("sweeping %s: %w", table, err)
	}
	return nil
}
