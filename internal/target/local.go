package target

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

type localFS struct{ root string }

const stagingDir = ".s3load"

func (l *localFS) loadDir(table, load string) string {
	return filepath.Join(l.root, stagingDir, table, load)
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tmpPrefix marks files still being written; a commit removes any left by a
// worker that died mid-file.
const tmpPrefix = ".tmp-"

func (l *localFS) createPart(table, load string) (Part, error) {
	dir := l.loadDir(table, load)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("creating part: %w", err)
	}
	return &localPart{f: f, dir: dir}, nil
}

type localPart struct {
	f    *os.File
	dir  string
	n    int64
	done bool
}

func (p *localPart) ReadAt(b []byte, off int64) (int, error) { return p.f.ReadAt(b, off) }

func (p *localPart) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.n += int64(n)
	return n, err
}

// Commit syncs the part, renames it to its name and syncs the directory, so
// the part survives a crash once the task is acked.
func (p *localPart) Commit(_ context.Context, name string) (int64, error) {
	if err := p.f.Sync(); err != nil {
		p.Abort()
		return 0, fmt.Errorf("syncing part: %w", err)
	}
	if err := p.f.Close(); err != nil {
		p.Abort()
		return 0, fmt.Errorf("closing part: %w", err)
	}
	if err := os.Rename(p.f.Name(), filepath.Join(p.dir, name)); err != nil {
		p.Abort()
		return 0, fmt.Errorf("publishing part: %w", err)
	}
	p.done = true
	if err := syncDir(p.dir); err != nil {
		return 0, err
	}
	return p.n, nil
}

func (p *localPart) Abort() {
	if p.done {
		return
	}
	p.done = true
	_ = p.f.Close()
	_ = os.Remove(p.f.Name())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory to sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

func (l *localFS) commit(req coordinator.CommitRequest, m messages.Manifest) error {
	dir := l.loadDir(req.Table, req.LoadID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating load directory: %w", err)
	}
	keep := map[string]bool{ManifestName: true}
	for _, p := range m.Parts {
		if err := verifyPart(filepath.Join(dir, p.Path), p); err != nil {
			return err
		}
		keep[p.Path] = true
	}
	// The directory must hold exactly what the manifest lists: drop
	// temporaries of dead workers and parts of files that ended failed.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading load directory: %w", err)
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("removing stray %s: %w", e.Name(), err)
			}
		}
	}
	data, err := messages.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, ManifestName), data); err != nil {
		return err
	}
	if err := l.switchTable(req.Table, req.LoadID); err != nil {
		return err
	}
	l.removeOldLoads(req.Table, req.LoadID)
	return nil
}

// verifyPart checks the part is there with the size and row count its
// workers recorded: the manifest never lists a part that is not whole.
func verifyPart(path string, p messages.ManifestPart) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("verifying part %s: %w", p.Path, err)
	}
	if st.Size() != p.Bytes {
		return fmt.Errorf("verifying part %s: %d bytes on disk, %d recorded", p.Path, st.Size(), p.Bytes)
	}
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return fmt.Errorf("verifying part %s: reading footer: %w", p.Path, err)
	}
	defer r.Close()
	if r.NumRows() != p.Rows {
		return fmt.Errorf("verifying part %s: %d rows in the part, %d recorded", p.Path, r.NumRows(), p.Rows)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + tmpPrefix + randomSuffix()
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return syncDir(filepath.Dir(path))
}

// switchTable points <root>/<table> at the load directory by renaming a new
// link over it: rename(2) replaces the link atomically.
func (l *localFS) switchTable(table, load string) error {
	link := filepath.Join(l.root, table)
	if st, err := os.Lstat(link); err == nil && st.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("committing %s: %s exists and is not a link made by s3load; move it away", table, link)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("committing %s: %w", table, err)
	}
	tmp := filepath.Join(l.root, "."+table+".link-"+randomSuffix())
	if err := os.Symlink(filepath.Join(stagingDir, table, load), tmp); err != nil {
		return fmt.Errorf("committing %s: linking: %w", table, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("committing %s: switching link: %w", table, err)
	}
	return syncDir(l.root)
}

// removeOldLoads deletes earlier loads of the table once this one is the
// table. Failing to is harmless (space only), so errors are ignored.
func (l *localFS) removeOldLoads(table, keep string) {
	dir := filepath.Join(l.root, stagingDir, table)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Name() != keep {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
