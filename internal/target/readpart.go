package target

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// PartInfo describes a committed part file, for a worker that adopts a
// part an earlier attempt already wrote.
type PartInfo struct {
	Size int64
	Rows int64
	// Metadata is the Parquet footer's key-value metadata.
	Metadata map[string]string
	// Footer is the whole footer, for a table format's stats.
	Footer *metadata.FileMetaData
}

// footerReadSize is the tail one request reads of an S3 part: enough for
// the footers of parts s3load writes, whose row groups are few.
const footerReadSize = 64 << 10

// ReadPart reads the size, row count and footer metadata of the part named
// name in load. A missing part is an error wrapping fs.ErrNotExist. On S3
// it reads only the part's tail, with ranged GETs.
func (t *Target) ReadPart(ctx context.Context, table, load, name string) (PartInfo, error) {
	if err := errors.Join(checkNames(table, load), checkName("part", name)); err != nil {
		return PartInfo{}, fmt.Errorf("reading part: %w", err)
	}
	if t.s3 != nil {
		return t.s3.readPart(ctx, table, load, name)
	}
	return t.local.readPart(table, load, name)
}

func (l *localFS) readPart(table, load, name string) (PartInfo, error) {
	path := filepath.Join(l.loadDir(table, load), name)
	st, err := os.Stat(path)
	if err != nil {
		return PartInfo{}, fmt.Errorf("reading part: %w", err)
	}
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return PartInfo{}, fmt.Errorf("reading part %s: footer: %w", path, err)
	}
	defer r.Close()
	return PartInfo{Size: st.Size(), Rows: r.NumRows(), Metadata: keyValues(r.MetaData().KeyValueMetadata()), Footer: r.MetaData()}, nil
}

func (s *s3Target) readPart(ctx context.Context, table, load, name string) (PartInfo, error) {
	key := s.tableKey(table, load, name)
	tail, size, err := s.store.ReadTail(ctx, s.bucket, key, footerReadSize)
	if err != nil {
		return PartInfo{}, fmt.Errorf("reading part: %w", err)
	}
	footer, err := footerBytes(tail, size)
	if errors.Is(err, errFooterBeyondTail) {
		// A footer bigger than the first read: read exactly it.
		n := int64(binary.LittleEndian.Uint32(tail[len(tail)-8:])) + 8
		if tail, _, err = s.store.ReadTail(ctx, s.bucket, key, n); err != nil {
			return PartInfo{}, fmt.Errorf("reading part: %w", err)
		}
		footer, err = footerBytes(tail, size)
	}
	if err != nil {
		return PartInfo{}, fmt.Errorf("reading part %s: %w", s.url(key), err)
	}
	meta, err := metadata.NewFileMetaData(footer, nil)
	if err != nil {
		return PartInfo{}, fmt.Errorf("reading part %s: decoding footer: %w", s.url(key), err)
	}
	return PartInfo{Size: size, Rows: meta.NumRows, Metadata: keyValues(meta.KeyValueMetadata()), Footer: meta}, nil
}

var errFooterBeyondTail = errors.New("footer longer than the tail read")

// footerBytes finds the Thrift footer in the last bytes of a Parquet file
// of size bytes: <footer> <4-byte little-endian length> "PAR1".
func footerBytes(tail []byte, size int64) ([]byte, error) {
	if size < 12 || len(tail) < 8 {
		return nil, fmt.Errorf("not a Parquet file: %d bytes", size)
	}
	end := tail[len(tail)-8:]
	switch {
	case bytes.Equal(end[4:], []byte("PARE")):
		return nil, fmt.Errorf("footer is encrypted, which s3load does not write")
	case !bytes.Equal(end[4:], []byte("PAR1")):
		return nil, fmt.Errorf("not a Parquet file: no PAR1 at its end")
	}
	n := int64(binary.LittleEndian.Uint32(end[:4]))
	if n+12 > size {
		return nil, fmt.Errorf("footer length %d does not fit a file of %d bytes", n, size)
	}
	if n+8 > int64(len(tail)) {
		return nil, errFooterBeyondTail
	}
	return tail[int64(len(tail))-8-n : len(tail)-8], nil
}

func keyValues(kv metadata.KeyValueMetadata) map[string]string {
	m := make(map[string]string, len(kv))
	for _, e := range kv {
		m[e.GetKey()] = e.GetValue()
	}
	return m
}
