package lakeio

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	icebergio "github.com/apache/iceberg-go/io"
)

// IO is an FS as iceberg-go's io.IO, bound to the context of the one
// operation it serves (see FS.IO).
type IO struct {
	ctx context.Context // the operation's: io.IO's methods take none
	fs  *FS
}

var (
	_ icebergio.ReadFileIO  = (*IO)(nil)
	_ icebergio.WriteFileIO = (*IO)(nil)
	_ icebergio.RemoveAllIO = (*IO)(nil)
	_ icebergio.ListableIO  = (*IO)(nil)
)

// Open opens name for reading; a missing file is an *fs.PathError wrapping
// fs.ErrNotExist.
func (o *IO) Open(name string) (icebergio.File, error) { return o.fs.Open(o.ctx, name) }

// ReadFile returns name's contents.
func (o *IO) ReadFile(name string) ([]byte, error) { return o.fs.ReadFile(o.ctx, name) }

// Remove removes the file name.
func (o *IO) Remove(name string) error { return o.fs.Remove(o.ctx, name) }

// RemoveAll removes name and everything below it.
func (o *IO) RemoveAll(name string) error { return o.fs.RemoveAll(o.ctx, name) }

// Create returns a writer whose file appears whole on Close.
func (o *IO) Create(name string) (icebergio.FileWriter, error) { return o.fs.Create(o.ctx, name) }

// WriteFile writes p to name, replacing it whole.
func (o *IO) WriteFile(name string, p []byte) error { return o.fs.WriteFile(o.ctx, name, p) }

// CreateExclusive writes data to name only if it does not exist yet
// (FS.CreateExclusive).
func (o *IO) CreateExclusive(name string, data []byte) error {
	return o.fs.CreateExclusive(o.ctx, name, data)
}

// ErrNoModTimes: WalkDir on S3 is refused. The store's listing gives no
// modification times, and iceberg-go's orphan-file removal, the one user
// of WalkDir, would take every file for an old one, including those a
// running commit has just written.
var ErrNoModTimes = errors.New("walking S3 is not supported: listings carry no modification times")

// WalkDir walks a local directory tree, as filepath.WalkDir does, handing
// fn names in root's form (file:// URL or plain path).
func (o *IO) WalkDir(root string, fn fs.WalkDirFunc) error {
	l, err := parse(root)
	if err != nil {
		return err
	}
	if l.isS3() {
		return fmt.Errorf("walking %s: %w", root, ErrNoModTimes)
	}
	return walkLocal(root, l, fn)
}
