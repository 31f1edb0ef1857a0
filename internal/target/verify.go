package target

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// PartSize is a part's path, relative to the table, and its recorded size.
type PartSize struct {
	Path  string
	Bytes int64
}

// VerifyParts checks that each of a load's parts is stored with its
// recorded size, from one listing (S3) or a stat per part (local): a table
// format's commit reads no part. Parts not as recorded fail it with a
// *coordinator.PartsError naming them; anything else in the load's
// directory (temporaries of dead workers, parts of files that failed) is
// removed, so the directory holds exactly what the commit lists.
func (t *Target) VerifyParts(ctx context.Context, table, load string, parts []PartSize) error {
	if err := checkNames(table, load); err != nil {
		return fmt.Errorf("verifying parts: %w", err)
	}
	var stored map[string]int64
	var err error
	if t.s3 != nil {
		stored, err = t.s3.loadObjects(ctx, table, load)
	} else {
		stored, err = t.local.loadFiles(table, load)
	}
	if err != nil {
		return err
	}
	var problems []PartProblem
	keep := map[string]bool{}
	for _, p := range parts {
		name := path.Base(p.Path)
		keep[name] = true
		size, ok := stored[name]
		switch {
		case !ok:
			problems = append(problems, PartProblem{Path: p.Path, Problem: "missing"})
		case size != p.Bytes:
			problems = append(problems, PartProblem{Path: p.Path, Problem: fmt.Sprintf("%d bytes stored, %d recorded", size, p.Bytes)})
		}
	}
	if len(problems) > 0 {
		return partsError(&PartsError{Table: table, Load: load, Parts: problems})
	}
	var errs []error
	for name := range stored {
		if keep[name] {
			continue
		}
		if t.s3 != nil {
			key := t.s3.tableKey(table, load, name)
			if err := t.s3.store.Delete(ctx, t.s3.bucket, key); err != nil {
				errs = append(errs, storeErr("removing stray", t.s3.url(key), err))
			}
		} else if err := os.Remove(filepath.Join(t.local.loadDir(table, load), name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, localErr("removing stray "+name, t.local.loadDir(table, load), err))
		}
	}
	// A stray left costs space only; the commit lists exactly the parts.
	_ = errors.Join(errs...)
	return nil
}

func (s *s3Target) loadObjects(ctx context.Context, table, load string) (map[string]int64, error) {
	prefix := s.tableKey(table, load) + "/"
	objects, err := s.store.ListKeys(ctx, s.bucket, prefix)
	if err != nil {
		return nil, storeErr("listing parts", s.url(prefix), err)
	}
	out := make(map[string]int64, len(objects))
	for _, o := range objects {
		if name := strings.TrimPrefix(o.Key, prefix); !strings.Contains(name, "/") {
			out[name] = o.Size
		}
	}
	return out, nil
}

func (l *localFS) loadFiles(table, load string) (map[string]int64, error) {
	dir := l.loadDir(table, load)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, localErr("listing parts", dir, err)
	}
	out := make(map[string]int64, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, localErr("listing parts", dir, err)
		}
		if info.Mode().IsRegular() {
			out[e.Name()] = info.Size()
		}
	}
	return out, nil
}
