package decode

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/s3load/s3load/internal/tempspace"
)

// spoolBuffer is the size of one write of decompressed Parquet to its
// temporary file, and so how finely the temporary budget is charged.
const spoolBuffer = 256 << 10

// parquetReaderAt is what arrow's Parquet reader reads from.
type parquetReaderAt interface {
	io.ReaderAt
	io.Seeker
}

// pqSource is a Parquet file's bytes: the Object itself through ranged
// reads, or a temporary file holding its decompressed content.
type pqSource struct {
	name    string
	ra      parquetReaderAt
	size    int64
	ahead   *readAhead // nil for a temporary file
	cleanup func()
	// head holds the file's first bytes when they were read already (to
	// tell plain from compressed Parquet): the footer check reuses them
	// rather than asking the store again.
	head []byte
}

// openParquetSource returns obj's Parquet bytes. A whole-file compressed
// Parquet (.parquet.gz) is decompressed to a temporary file, since its
// footer comes last and its pages are read by offset; call the source's
// cleanup when done.
func openParquetSource(ctx context.Context, obj Object, s *settings, errs *ioErrors) (*pqSource, error) {
	ra := &objectReaderAt{ctx: ctx, obj: obj, errs: errs}
	ahead := newReadAhead(ra)
	src := &pqSource{name: obj.Name(), ra: ahead, ahead: ahead, size: obj.Size(), cleanup: func() {}}
	head := make([]byte, 4)
	if n, err := ra.ReadAt(head, 0); n < len(head) {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, errs.prefer(err)
		}
		return nil, dataErrf(src.name, 0, "", "not a Parquet file: %d bytes", src.size)
	}
	compression := sniffCompression(head)
	if compression == "" {
		src.head = head
		return src, nil
	}
	return spoolParquet(ctx, obj, compression, s, errs)
}

// spoolParquet decompresses obj into a temporary file charged to the
// settings' budget. The decompression cap stops a bomb at its limit, and
// the budget keeps the files being read at once from filling the disk. The
// file is removed on every path but success, a panic's included.
func spoolParquet(ctx context.Context, obj Object, compression Compression, s *settings, errs *ioErrors) (src *pqSource, err error) {
	st, err := openStream(ctx, obj, s, errs)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	f, err := s.temp.Create("s3load-decode-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("%s: decompressing %s Parquet: %w", obj.Name(), compression, err)
	}
	defer func() {
		if src == nil {
			f.Remove()
		}
	}()
	buf := make([]byte, spoolBuffer)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err // a bomb takes a while: stop when the caller does
		}
		k, rerr := st.Read(buf)
		if k > 0 {
			if _, err := f.Write(buf[:k]); err != nil {
				return nil, spoolWriteErr(obj.Name(), compression, err)
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, errs.prefer(rerr)
		}
	}
	return &pqSource{name: obj.Name(), ra: f, size: n, cleanup: func() { f.Remove() }}, nil
}

// spoolWriteErr explains a failed write to the temporary file. A file that
// alone needs more than the whole budget can never be read, so that error
// is permanent; a budget spent by other files is not (retry later), and
// stays recognisable with errors.Is(err, tempspace.ErrFull).
func spoolWriteErr(name string, compression Compression, err error) error {
	var full *tempspace.FullError
	if errors.As(err, &full) && full.Alone {
		return dataErr(name, 0, "", fmt.Errorf("decompressing %s Parquet to a temporary file: %w; "+
			"raise limits.max_temp_bytes, or store the file uncompressed", compression, err))
	}
	return fmt.Errorf("%s: decompressing %s Parquet to a temporary file: %w", name, compression, err)
}
