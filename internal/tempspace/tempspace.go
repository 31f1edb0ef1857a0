// Package tempspace owns a worker's scratch disk: temporary files whose
// total size is capped, so that hostile input (a tiny compressed file that
// expands to gigabytes) or a burst of big parts spooled for an S3 target
// cannot fill the disk the worker shares with everything else.
package tempspace

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// ErrFull marks a write refused because the budget is spent.
var ErrFull = errors.New("temporary space budget exhausted")

// FullError says how a write would have gone over the budget. Alone is set
// when the file by itself needs more than the whole budget: waiting for
// other files to finish cannot help it.
type FullError struct {
	Max, Used, Want int64
	Alone           bool
}

func (e *FullError) Error() string {
	if e.Alone {
		return fmt.Sprintf("%v: one file needs more than the %d bytes allowed (limits.max_temp_bytes)", ErrFull, e.Max)
	}
	return fmt.Sprintf("%v: %d of %d bytes in use, %d more asked (limits.max_temp_bytes)", ErrFull, e.Used, e.Max, e.Want)
}

func (e *FullError) Is(target error) bool { return target == ErrFull }

// Budget hands out temporary files in one directory whose sizes together
// stay under a maximum. It is safe for concurrent use.
type Budget struct {
	dir  string
	max  int64
	used atomic.Int64
}

// New returns a budget of max bytes in dir; dir "" is os.TempDir(), and
// max <= 0 means no cap.
func New(dir string, max int64) *Budget {
	if dir == "" {
		dir = os.TempDir()
	}
	return &Budget{dir: dir, max: max}
}

// Dir is the directory the budget's files are made in.
func (b *Budget) Dir() string { return b.dir }

// Check makes and removes an empty file in the budget's directory: that
// the directory exists and takes this user's files is then known at start,
// not at the first file that needs it.
func (b *Budget) Check() error {
	f, err := b.Create("s3load-check-*")
	if err != nil {
		return err
	}
	return f.Remove()
}

// Used is how many bytes the budget's live files hold.
func (b *Budget) Used() int64 { return b.used.Load() }

// Create makes a new empty temporary file named after pattern (a "*" in it
// is replaced by random characters), readable only by this user.
func (b *Budget) Create(pattern string) (*File, error) {
	var r [8]byte
	_, _ = rand.Read(r[:])
	name := pattern + "*"
	if strings.Contains(pattern, "*") {
		name = pattern
	}
	name = strings.Replace(name, "*", hex.EncodeToString(r[:]), 1)
	f, err := os.OpenFile(filepath.Join(b.dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating temporary file: %w", err)
	}
	return &File{f: f, b: b}, nil
}

func (b *Budget) reserve(own, n int64) error {
	if b.max <= 0 {
		b.used.Add(n)
		return nil
	}
	for {
		used := b.used.Load()
		if used+n > b.max {
			return &FullError{Max: b.max, Used: used, Want: n, Alone: own+n > b.max}
		}
		if b.used.CompareAndSwap(used, used+n) {
			return nil
		}
	}
}

// File is one temporary file whose writes are charged to its budget until
// it is removed.
type File struct {
	f       *os.File
	b       *Budget
	n       int64
	removed bool
}

// Write charges len(p) to the budget first; over budget, nothing is written
// and the error is a *FullError.
func (f *File) Write(p []byte) (int, error) {
	if err := f.b.reserve(f.n, int64(len(p))); err != nil {
		return 0, err
	}
	n, err := f.f.Write(p)
	f.n += int64(len(p))
	if n < len(p) {
		// Release what was not written; the file's size is what counts.
		f.b.used.Add(int64(n - len(p)))
		f.n -= int64(len(p) - n)
	}
	return n, err
}

// Size is how many bytes were written.
func (f *File) Size() int64 { return f.n }

// Name is the file's path.
func (f *File) Name() string { return f.f.Name() }

func (f *File) Read(p []byte) (int, error)                { return f.f.Read(p) }
func (f *File) ReadAt(p []byte, off int64) (int, error)   { return f.f.ReadAt(p, off) }
func (f *File) Seek(off int64, whence int) (int64, error) { return f.f.Seek(off, whence) }
func (f *File) Sync() error                               { return f.f.Sync() }

// Remove closes and deletes the file and gives its bytes back to the
// budget. It is safe to call more than once.
func (f *File) Remove() error {
	if f.removed {
		return nil
	}
	f.removed = true
	cerr := f.f.Close()
	rerr := os.Remove(f.f.Name())
	f.b.used.Add(-f.n)
	if errors.Is(rerr, os.ErrNotExist) {
		rerr = nil
	}
	return errors.Join(cerr, rerr)
}
