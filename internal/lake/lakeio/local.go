package lakeio

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	icebergio "github.com/apache/iceberg-go/io"
)

const (
	fileMode = 0o644
	dirMode  = 0o755
)

func openLocal(path string) (icebergio.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // an *fs.PathError naming the path, as io.IO asks
	}
	return f, nil
}

func readLocal(path string) ([]byte, error) { return os.ReadFile(path) }

// removeLocal removes path; one already gone is removed, as on S3 (an
// expiry removes files an earlier one already did).
func removeLocal(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func removeAllLocal(path string) error { return os.RemoveAll(path) }

func mkdirAllLocal(path string) error { return os.MkdirAll(path, dirMode) }

func readDirLocal(path string) ([]Entry, error) {
	des, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, 0, len(des))
	for _, de := range des {
		if isTemp(de.Name()) {
			continue
		}
		entries = append(entries, Entry{Name: de.Name(), Dir: de.IsDir()})
	}
	return entries, nil
}

// tempMarker marks files still being written: ".<name>.tmp-<random>".
const tempMarker = ".tmp-"

func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// createTemp creates a new temporary file beside path, creating the
// directory first if need be.
func createTemp(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("creating directory: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	tmp := filepath.Join(dir, "."+filepath.Base(path)+tempMarker+hex.EncodeToString(b[:]))
	// Not os.CreateTemp, whose files are 0600: tables are for other users too.
	return os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
}

// writeTemp writes data to a new synced temporary file beside path and
// returns its name.
func writeTemp(path string, data []byte) (string, error) {
	f, err := createTemp(path)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func writeLocal(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// createExclusiveLocal links a synced temporary file to path: link(2)
// fails with EEXIST if path exists, and publishes the whole file at once
// otherwise. A rename would replace a file another writer just published.
func createExclusiveLocal(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating %s: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a new name in dir survive a crash.
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

// localWriter writes a temporary file and renames it to its name on Close,
// so a name never holds a partial file.
type localWriter struct {
	f    *os.File
	path string
	err  error // the first write error: Close then publishes nothing
	done bool
}

func createLocal(path string) (icebergio.FileWriter, error) {
	f, err := createTemp(path)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	return &localWriter{f: f, path: path}, nil
}

func (w *localWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *localWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := w.f.ReadFrom(r)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *localWriter) Close() error {
	if w.done {
		return fmt.Errorf("closing %s: %w", w.path, fs.ErrClosed)
	}
	w.done = true
	err := w.err
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	if err != nil {
		_ = os.Remove(w.f.Name())
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	return syncDir(filepath.Dir(w.path))
}

// walkLocal walks root for IO.WalkDir, handing fn names in root's form and
// skipping files still being written.
func walkLocal(root string, l location, fn fs.WalkDirFunc) error {
	return filepath.WalkDir(l.local, func(p string, d fs.DirEntry, err error) error {
		if d != nil && !d.IsDir() && isTemp(d.Name()) {
			return nil
		}
		return fn(sameForm(root, l, p), d, err)
	})
}
