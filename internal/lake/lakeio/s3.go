package lakeio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	icebergio "github.com/apache/iceberg-go/io"

	"github.com/s3load/s3load/internal/s3store"
)

func (f *FS) openS3(ctx context.Context, name string, l location) (icebergio.File, error) {
	data, err := f.store.Get(ctx, l.bucket, l.key)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &memFile{Reader: bytes.NewReader(data), info: fileInfo{name: path.Base(l.key), size: int64(len(data))}}, nil
}

func (f *FS) putS3(ctx context.Context, l location, data []byte) error {
	return f.store.Put(ctx, l.bucket, l.key, bytes.NewReader(data), int64(len(data)))
}

func (f *FS) createExclusiveS3(ctx context.Context, name string, l location, data []byte) error {
	_, err := f.store.PutIfAbsent(ctx, l.bucket, l.key, data)
	if errors.Is(err, s3store.ErrPreconditionFailed) {
		return fmt.Errorf("creating %s: %w: %w", name, fs.ErrExist, err)
	}
	return err
}

// prefix is the key prefix of what lies below l, as of a directory.
func (l location) prefix() string {
	if l.key == "" {
		return ""
	}
	return l.key + "/"
}

func (f *FS) removeAllS3(ctx context.Context, l location) error {
	objs, err := f.store.ListKeys(ctx, l.bucket, l.prefix())
	if err != nil {
		return err
	}
	if l.key != "" {
		if err := f.store.Delete(ctx, l.bucket, l.key); err != nil {
			return err
		}
	}
	for _, o := range objs {
		if err := f.store.Delete(ctx, l.bucket, o.Key); err != nil {
			return err
		}
	}
	return nil
}

// readDirS3 derives a directory's entries from the keys below its prefix:
// a key with a further "/" names a subdirectory.
func (f *FS) readDirS3(ctx context.Context, name string, l location) ([]Entry, error) {
	prefix := l.prefix()
	objs, err := f.store.ListKeys(ctx, l.bucket, prefix)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("listing %s: %w", name, fs.ErrNotExist)
	}
	seen := map[string]bool{}
	var entries []Entry
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, prefix)
		first, _, isDir := strings.Cut(rest, "/")
		if first == "" || seen[first] {
			continue // a directory marker of the prefix itself, or a name seen
		}
		seen[first] = true
		entries = append(entries, Entry{Name: first, Dir: isDir})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return entries, nil
}

// s3Writer buffers a file and PUTs it on Close: Put needs the size first,
// and the files Iceberg writes through an IO are moderate.
type s3Writer struct {
	ctx   context.Context
	store ObjectStore
	l     location
	buf   bytes.Buffer
	done  bool
}

func (w *s3Writer) Write(p []byte) (int, error)         { return w.buf.Write(p) }
func (w *s3Writer) ReadFrom(r io.Reader) (int64, error) { return w.buf.ReadFrom(r) }

func (w *s3Writer) Close() error {
	if w.done {
		return fmt.Errorf("closing s3://%s/%s: %w", w.l.bucket, w.l.key, fs.ErrClosed)
	}
	w.done = true
	err := w.store.Put(w.ctx, w.l.bucket, w.l.key, bytes.NewReader(w.buf.Bytes()), int64(w.buf.Len()))
	w.buf = bytes.Buffer{}
	return err
}

// memFile is an object read whole.
type memFile struct {
	*bytes.Reader
	info fileInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

type fileInfo struct {
	name string
	size int64
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return 0o444 }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return false }
func (i fileInfo) Sys() any           { return nil }
