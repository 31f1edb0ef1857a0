package lakeio

import (
	"context"
	"errors"
	"fmt"
	"io"

	icebergio "github.com/apache/iceberg-go/io"

	"github.com/s3load/s3load/messages"
)

// ObjectStore is what an FS needs of an S3 store; *s3store.Store has it.
type ObjectStore interface {
	Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error
	// Get returns a whole object; a missing key is an error wrapping
	// fs.ErrNotExist.
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// Delete removes an object; a missing key is not an error.
	Delete(ctx context.Context, bucket, key string) error
	ListKeys(ctx context.Context, bucket, prefix string) ([]messages.Source, error)
	// PutIfAbsent writes an object only if its key does not exist; losing
	// is an error wrapping s3store.ErrPreconditionFailed.
	PutIfAbsent(ctx context.Context, bucket, key string, data []byte) (etag string, err error)
}

// ErrNoStore: an s3:// name given to an FS made without an ObjectStore.
var ErrNoStore = errors.New("no S3 store configured for s3:// paths")

// FS reads and writes table files at local paths and, given a store, at
// s3:// URLs. Every name is a full path or URL (see the package doc).
type FS struct {
	store ObjectStore
}

// New returns an FS; store may be nil when only local paths are used.
func New(store ObjectStore) *FS { return &FS{store: store} }

// Entry is one name in a directory ReadDir lists.
type Entry struct {
	Name string // the last path segment
	Dir  bool
}

// IO returns iceberg-go's view of f, bound to ctx: every call it serves
// runs under ctx, so it must be made for one operation and not kept past
// it.
func (f *FS) IO(ctx context.Context) *IO { return &IO{ctx: ctx, fs: f} }

// IOFunc is f as a table's file system function (table.FSysF): each
// operation on the table gets an IO bound to its own context.
func (f *FS) IOFunc() func(ctx context.Context) (icebergio.IO, error) {
	return func(ctx context.Context) (icebergio.IO, error) { return f.IO(ctx), nil }
}

func (f *FS) s3(name string) (location, error) {
	l, err := parse(name)
	if err == nil && l.isS3() && f.store == nil {
		return l, fmt.Errorf("using %s: %w", name, ErrNoStore)
	}
	return l, err
}

// Open opens name for reading.
func (f *FS) Open(ctx context.Context, name string) (icebergio.File, error) {
	l, err := f.s3(name)
	if err != nil {
		return nil, err
	}
	if l.isS3() {
		return f.openS3(ctx, name, l)
	}
	return openLocal(l.local)
}

// ReadFile returns name's contents; a missing file is an error wrapping
// fs.ErrNotExist.
func (f *FS) ReadFile(ctx context.Context, name string) ([]byte, error) {
	l, err := f.s3(name)
	if err != nil {
		return nil, err
	}
	if l.isS3() {
		return f.store.Get(ctx, l.bucket, l.key)
	}
	return readLocal(l.local)
}

// WriteFile writes data to name, replacing it whole: a reader sees the old
// contents or the new ones (locally a synced temporary file renamed over
// it; on S3 one PUT).
func (f *FS) WriteFile(ctx context.Context, name string, data []byte) error {
	l, err := f.s3(name)
	if err != nil {
		return err
	}
	if l.isS3() {
		return f.putS3(ctx, l, data)
	}
	return writeLocal(l.local, data)
}

// CreateExclusive writes data to name only if name does not exist, in one
// atomic step: readers never see a partial file, and of two writers racing
// for one name exactly one wins; the other gets an error wrapping
// fs.ErrExist. Locally the data is written and synced to a temporary file
// in the same directory, which is then hard-linked to name (link(2) fails
// if name exists); on S3 it is a conditional PUT (If-None-Match: *).
func (f *FS) CreateExclusive(ctx context.Context, name string, data []byte) error {
	l, err := f.s3(name)
	if err != nil {
		return err
	}
	if l.isS3() {
		return f.createExclusiveS3(ctx, name, l, data)
	}
	return createExclusiveLocal(l.local, data)
}

// Create returns a writer for name, which appears whole when the writer is
// closed without error (and not at all when writing fails).
func (f *FS) Create(ctx context.Context, name string) (icebergio.FileWriter, error) {
	l, err := f.s3(name)
	if err != nil {
		return nil, err
	}
	if l.isS3() {
		return &s3Writer{ctx: ctx, store: f.store, l: l}, nil
	}
	return createLocal(l.local)
}

// Remove removes the file name (or, locally, an empty directory); one
// already gone is not an error, here as on S3.
func (f *FS) Remove(ctx context.Context, name string) error {
	l, err := f.s3(name)
	if err != nil {
		return err
	}
	if l.isS3() {
		return f.store.Delete(ctx, l.bucket, l.key)
	}
	return removeLocal(l.local)
}

// RemoveAll removes name and everything below it; what is already gone is
// not an error.
func (f *FS) RemoveAll(ctx context.Context, name string) error {
	l, err := f.s3(name)
	if err != nil {
		return err
	}
	if l.isS3() {
		return f.removeAllS3(ctx, l)
	}
	return removeAllLocal(l.local)
}

// ReadDir lists the directory name, sorted by name. A directory that does
// not exist is an error wrapping fs.ErrNotExist; on S3, where directories
// are key prefixes, that is a prefix with no key below it.
func (f *FS) ReadDir(ctx context.Context, name string) ([]Entry, error) {
	l, err := f.s3(name)
	if err != nil {
		return nil, err
	}
	if l.isS3() {
		return f.readDirS3(ctx, name, l)
	}
	return readDirLocal(l.local)
}

// MkdirAll creates the directory name and its parents; on S3, where
// directories are only key prefixes, it does nothing.
func (f *FS) MkdirAll(_ context.Context, name string) error {
	l, err := f.s3(name)
	if err != nil || l.isS3() {
		return err
	}
	return mkdirAllLocal(l.local)
}
