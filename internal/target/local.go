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
	"strings"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

type localFS struct {
	root   string
	layout Layout
	// openFile is os.OpenFile; tests put a full disk behind it.
	openFile func(name string, flag int, perm os.FileMode) (*os.File, error)
}

const (
	stagingDir = ".s3load"
	// fileMode and dirMode let other users read the tables; the umask
	// still applies.
	fileMode = 0o644
	dirMode  = 0o755
)

func (l *localFS) tableDir(table string) string {
	return l.layout.localTableDir(l.root, table)
}

func (l *localFS) loadDir(table, load string) string {
	return filepath.Join(l.tableDir(table), load)
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tmpPrefix marks files still being written; a commit removes any left by a
// worker that died mid-file.
const tmpPrefix = ".tmp-"

// createFile creates a new file readable by all (less the umask); unlike
// os.CreateTemp, whose files are 0600.
func (l *localFS) createFile(path string) (*os.File, error) {
	return l.openFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
}

func (l *localFS) createPart(table, load string) (Part, error) {
	dir := l.loadDir(table, load)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, localErr("creating staging directory", dir, err)
	}
	tmp := filepath.Join(dir, tmpPrefix+randomSuffix())
	f, err := l.createFile(tmp)
	if err != nil {
		return nil, localErr("creating part", dir, err)
	}
	return &localPart{f: f, tmp: tmp, dir: dir}, nil
}

type localPart struct {
	f    *os.File
	tmp  string
	dir  string
	n    int64
	done bool
}

func (p *localPart) ReadAt(b []byte, off int64) (int, error) { return p.f.ReadAt(b, off) }

func (p *localPart) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.n += int64(n)
	if err != nil {
		return n, localErr("writing part", p.dir, err)
	}
	return n, nil
}

// Commit syncs the part, renames it to its name and syncs the directory, so
// the part survives a crash once the task is acked.
func (p *localPart) Commit(_ context.Context, name string) (int64, error) {
	if err := checkName("part", name); err != nil {
		p.Abort()
		return 0, fmt.Errorf("publishing part: %w", err)
	}
	if err := p.f.Sync(); err != nil {
		p.Abort()
		return 0, localErr("syncing part", p.dir, err)
	}
	if err := p.f.Close(); err != nil {
		p.Abort()
		return 0, localErr("closing part", p.dir, err)
	}
	if err := os.Rename(p.tmp, filepath.Join(p.dir, name)); err != nil {
		p.Abort()
		return 0, localErr("publishing part", p.dir, err)
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
	_ = os.Remove(p.tmp)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory to sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return localErr("syncing directory", dir, err)
	}
	return nil
}

// commit verifies the parts, writes the manifest and switches the table.
// It then removes the load the table pointed to before and, when this load
// holds the table's lease, every other load as Sweep would.
func (l *localFS) commit(req coordinator.CommitRequest, m messages.Manifest, leased bool) error {
	prev, err := l.committedLoad(req.Table)
	if err != nil {
		return fmt.Errorf("committing %s: %w", req.Table, err)
	}
	dir := l.loadDir(req.Table, req.LoadID)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return localErr("creating load directory", dir, err)
	}
	keep := map[string]bool{ManifestName: true}
	var problems []PartProblem
	for _, p := range m.Parts {
		problem, err := verifyPart(filepath.Join(dir, p.Path), p)
		if err != nil {
			return fmt.Errorf("verifying part %s: %w", p.Path, err)
		}
		if problem != "" {
			problems = append(problems, PartProblem{Path: p.Path, Problem: problem})
		}
		keep[p.Path] = true
	}
	if len(problems) > 0 {
		return &PartsError{Table: req.Table, Load: req.LoadID, Parts: problems}
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
				return localErr("removing stray "+e.Name(), dir, err)
			}
		}
	}
	data, err := messages.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	if err := l.writeFileAtomic(filepath.Join(dir, ManifestName), data); err != nil {
		return err
	}
	if err := l.switchTable(req.Table, req.LoadID); err != nil {
		return err
	}
	// Failing to remove costs space only, until Sweep at the table's next
	// load, so errors are left for Sweep to report.
	_ = l.removeLoads(req.Table, func(load string) bool {
		return load != req.LoadID && (leased || load == prev)
	})
	return nil
}

// verifyPart checks the part is there with the size and row count its
// workers recorded: the manifest never lists a part that is not whole. A
// part that is not so is a problem (reloading its files fixes it); err is
// for failures that reloading cannot fix.
func verifyPart(path string, p messages.ManifestPart) (problem string, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "missing", nil
	}
	if err != nil {
		return "", err
	}
	if st.Size() != p.Bytes {
		return fmt.Sprintf("%d bytes on disk, %d recorded", st.Size(), p.Bytes), nil
	}
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return fmt.Sprintf("unreadable footer: %v", err), nil
	}
	defer r.Close()
	if r.NumRows() != p.Rows {
		return fmt.Sprintf("%d rows in the part, %d recorded", r.NumRows(), p.Rows), nil
	}
	return "", nil
}

func (l *localFS) writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp := path + tmpPrefix + randomSuffix()
	f, err := l.createFile(tmp)
	if err != nil {
		return localErr("writing "+filepath.Base(path), dir, err)
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
		return localErr("writing "+filepath.Base(path), dir, err)
	}
	return syncDir(dir)
}

// committedLoad is the load <root>/<table> links to, or "" when the table
// has never committed.
func (l *localFS) committedLoad(table string) (string, error) {
	link := filepath.Join(l.root, table)
	dest, err := os.Readlink(link)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		if st, serr := os.Lstat(link); serr == nil && st.Mode()&fs.ModeSymlink == 0 {
			return "", fmt.Errorf("%s exists and is not a link made by s3load; move it away", link)
		}
		return "", fmt.Errorf("reading link %s: %w", link, err)
	}
	load := filepath.Base(dest)
	if filepath.Join(stagingDir, table, load) != dest {
		return "", fmt.Errorf("%s links to %s, not to a load of s3load's; move it away", link, dest)
	}
	return load, nil
}

// switchTable points <root>/<table> at the load directory by renaming a new
// link over it: rename(2) replaces the link atomically.
func (l *localFS) switchTable(table, load string) error {
	link := filepath.Join(l.root, table)
	tmp := filepath.Join(l.root, linkTmpPrefix(table)+randomSuffix())
	if err := os.Symlink(filepath.Join(stagingDir, table, load), tmp); err != nil {
		return localErr("committing "+table+": linking", l.root, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return localErr("committing "+table+": switching link", l.root, err)
	}
	return syncDir(l.root)
}

// linkTmpPrefix names the links switchTable makes before renaming them
// over the table; one left by a crash is Sweep's to remove.
func linkTmpPrefix(table string) string { return "." + table + ".link-" }

// removeLoads removes the table's load directories for which remove is
// true, never s3load's own entries ("_lease"), and returns what failed.
func (l *localFS) removeLoads(table string, remove func(load string) bool) error {
	dir := l.tableDir(table)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return localErr("listing loads of "+table, dir, err)
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "_") || !remove(e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, localErr("removing load "+e.Name(), dir, err))
		}
	}
	return errors.Join(errs...)
}
