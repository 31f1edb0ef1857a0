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
	keep, problems := partProblems(parts, stored, path.Base)
	if len(problems) > 0 {
		return partsError(&PartsError{Table: table, Load: load, Parts: problems})
	}
	// A stray left behind costs space only (the commit lists exactly the
	// parts, and the next sweep tries again), so removal errors are not
	// the commit's.
	for name := range stored {
		if keep[name] {
			continue
		}
		if t.s3 != nil {
			_ = t.s3.store.Delete(ctx, t.s3.bucket, t.s3.tableKey(table, load, name))
		} else {
			_ = os.Remove(filepath.Join(t.local.loadDir(table, load), name))
		}
	}
	return nil
}

// partProblems compares each part with what is stored under key(its path):
// missing, or of another size than recorded. listed holds the keys of the
// parts, so anything else stored is a stray.
func partProblems(parts []PartSize, stored map[string]int64, key func(path string) string) (listed map[string]bool, problems []PartProblem) {
	listed = make(map[string]bool, len(parts))
	for _, p := range parts {
		k := key(p.Path)
		listed[k] = true
		size, ok := stored[k]
		switch {
		case !ok:
			problems = append(problems, PartProblem{Path: p.Path, Problem: "missing"})
		case size != p.Bytes:
			problems = append(problems, PartProblem{Path: p.Path, Problem: fmt.Sprintf("%d bytes stored, %d recorded", size, p.Bytes)})
		}
	}
	return listed, problems
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
