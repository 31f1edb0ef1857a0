package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/s3load/s3load/coordinator"
)

var _ coordinator.Reuser = (*Target)(nil)

// PreviousLoad reads the committed manifest of a plain table: its
// fingerprint, schema, and each whole source file with its part. The parts
// are named "<load>/<part>" for ReusePart. Only local targets reuse parts
// for now: an s3:// target would need a server-side copy of each part.
func (t *Target) PreviousLoad(ctx context.Context, table string) (coordinator.PreviousLoad, error) {
	if t.s3 != nil || t.layout.iceberg() {
		return coordinator.PreviousLoad{}, nil
	}
	m, err := t.ReadManifest(ctx, table)
	if errors.Is(err, fs.ErrNotExist) {
		return coordinator.PreviousLoad{}, nil
	}
	if err != nil {
		return coordinator.PreviousLoad{}, err
	}
	if m.Fingerprint == "" {
		return coordinator.PreviousLoad{}, nil
	}
	files := coordinator.ManifestFiles(m, func(part string, _ int64) (string, bool) {
		return path.Join(m.LoadID, part), true
	})
	return coordinator.PreviousLoad{LoadID: m.LoadID, Fingerprint: m.Fingerprint, Schema: m.TableSchema, Files: files}, nil
}

// ReusePart puts a committed part ("<load>/<part>", as PreviousLoad names
// it) into load by a hard link (a copy where the file system has none), so
// removing the committed load once this one commits leaves it in place.
func (t *Target) ReusePart(_ context.Context, table, load, part string) (string, error) {
	if t.s3 != nil || t.layout.iceberg() {
		return "", errors.New("reusing parts is only done on local plain targets")
	}
	from, name, ok := strings.Cut(part, "/")
	if !ok || strings.Contains(name, "/") {
		return "", fmt.Errorf("reusing part %q: not <load>/<part>", part)
	}
	if err := checkNames(table, from); err != nil {
		return "", fmt.Errorf("reusing part: %w", err)
	}
	if err := checkNames(table, load); err != nil {
		return "", fmt.Errorf("reusing part: %w", err)
	}
	dir := t.local.loadDir(table, load)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return "", localErr("creating load directory", dir, err)
	}
	src, dst := filepath.Join(t.local.loadDir(table, from), name), filepath.Join(dir, name)
	if err := linkOrCopy(src, dst); err != nil {
		return "", err
	}
	return t.PartPath(load, name), nil
}

// linkOrCopy makes dst the same file as src. A dst already there (an
// earlier try) is kept if it has src's size; the commit checks it again.
func linkOrCopy(src, dst string) error {
	si, err := os.Stat(src)
	if err != nil {
		return localErr("reading committed part", filepath.Dir(src), err)
	}
	if di, err := os.Stat(dst); err == nil && di.Size() == si.Size() {
		return nil
	}
	_ = os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return syncDir(filepath.Dir(dst))
	}
	in, err := os.Open(src)
	if err != nil {
		return localErr("reading committed part", filepath.Dir(src), err)
	}
	defer in.Close()
	tmp := filepath.Join(filepath.Dir(dst), tmpPrefix+randomSuffix()) // a commit removes one left by a crash
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	if err != nil {
		return localErr("copying committed part", filepath.Dir(dst), err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return localErr("copying committed part", filepath.Dir(dst), err)
	}
	return syncDir(filepath.Dir(dst))
}

// CommittedPart is a committed part open for reading.
type CommittedPart interface {
	io.ReaderAt
	io.Seeker
	io.Closer
}

// OpenCommittedPart opens a committed part, named as PreviousLoad names it
// ("<load>/<part>"; "data/<load>/<part>" in an Iceberg layout), for a
// worker that copies some of its rows into a new part. An S3 part is read
// whole into memory: only batch parts of small files are read this way.
func (t *Target) OpenCommittedPart(ctx context.Context, table, part string) (CommittedPart, error) {
	rel := part
	if t.layout.iceberg() {
		var ok bool
		if rel, ok = strings.CutPrefix(part, "data/"); !ok {
			return nil, fmt.Errorf("opening committed part %q: not data/<load>/<part>", part)
		}
	}
	load, name, ok := strings.Cut(rel, "/")
	if !ok {
		return nil, fmt.Errorf("opening committed part %q: not <load>/<part>", part)
	}
	if err := errors.Join(checkNames(table, load), checkName("part", name)); err != nil {
		return nil, fmt.Errorf("opening committed part: %w", err)
	}
	if t.s3 != nil {
		key := t.s3.tableKey(table, load, name)
		data, err := t.s3.store.Get(ctx, t.s3.bucket, key)
		if err != nil {
			return nil, fmt.Errorf("reading committed part %s: %w", t.s3.url(key), err)
		}
		return nopCloser{bytes.NewReader(data)}, nil
	}
	path := filepath.Join(t.local.loadDir(table, load), name)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading committed part: %w", err)
	}
	return f, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
