package decode

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/snappy"
	"github.com/pierrec/lz4/v4"

	_ "github.com/s3load/s3load/internal/zstdpages" // the zstd codec, its decoding bounded by the page
)

// Arrow's Parquet codecs are looked up in a process-wide registry that is
// only safe to write before any reading starts, hence init. The two below
// fill gaps in arrow-go (found in v18.8.0; v18.9.0 still has no LZ4) (zstd's
// is internal/zstdpages'):
//   - LZ4 (the deprecated codec, not LZ4_RAW) is missing. Writers disagree
//     on its framing: Hadoop's block framing (parquet-mr, Arrow C++) or a
//     bare LZ4 block (old parquet-cpp). We try Hadoop framing and fall back
//     to a bare block, as Arrow C++ does.
//   - Snappy rejects a zero-length page body, which a V2 data page whose
//     values are all null legitimately has.
//   - Snappy allocates the size a corrupt block's first bytes declare
//     before it finds the rest corrupt: a 3 KB file cost 1 GiB (found by
//     FuzzParquet). The page reader hands the codec a buffer of the page's
//     uncompressed size, itself capped by the file's size and
//     limits.max_decompressed_bytes; no block may declare more.
func init() {
	compress.RegisterCodec(compress.Codecs.Lz4, lz4HadoopCodec{})
	compress.RegisterCodec(compress.Codecs.Snappy, emptySafeSnappy{})
}

type lz4HadoopCodec struct{}

// DecodeWithError decodes src into dst, which the page reader sizes to the
// page's uncompressed length.
func (lz4HadoopCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	if n, ok := decodeHadoopLZ4(dst[:cap(dst)], src); ok {
		return dst[:n], nil
	}
	n, err := lz4.UncompressBlock(src, dst[:cap(dst)])
	if err != nil {
		return nil, fmt.Errorf("decompressing LZ4 page: %w", err)
	}
	return dst[:n], nil
}

// decodeHadoopLZ4 decodes Hadoop's framing: repeated blocks of a 4-byte
// big-endian decompressed size, a 4-byte compressed size and an LZ4 block.
// ok is false unless src is exactly such a sequence.
func decodeHadoopLZ4(dst, src []byte) (n int, ok bool) {
	if len(src) < 8 {
		return 0, false
	}
	for len(src) > 0 {
		if len(src) < 8 {
			return 0, false
		}
		usize := int(binary.BigEndian.Uint32(src[0:4]))
		csize := int(binary.BigEndian.Uint32(src[4:8]))
		src = src[8:]
		if csize > len(src) || usize > len(dst)-n {
			return 0, false
		}
		got, err := lz4.UncompressBlock(src[:csize], dst[n:n+usize])
		if err != nil || got != usize {
			return 0, false
		}
		n += got
		src = src[csize:]
	}
	return n, true
}

func (c lz4HadoopCodec) Decode(dst, src []byte) []byte {
	out, err := c.DecodeWithError(dst, src)
	if err != nil {
		panic(err) // the Codec interface has no error; arrow recovers this
	}
	return out
}

// Encode writes Hadoop framing, which every LZ4-reading Parquet
// implementation accepts, in a single block.
func (c lz4HadoopCodec) Encode(dst, src []byte) []byte {
	bound := 8 + lz4.CompressBlockBound(len(src))
	if cap(dst) < bound {
		dst = make([]byte, bound)
	}
	dst = dst[:bound]
	var lc lz4.Compressor
	n, err := lc.CompressBlock(src, dst[8:])
	if err != nil {
		panic(err) // cannot happen with a bound-sized buffer
	}
	binary.BigEndian.PutUint32(dst[0:4], uint32(len(src)))
	binary.BigEndian.PutUint32(dst[4:8], uint32(n))
	return dst[:8+n]
}

func (c lz4HadoopCodec) EncodeLevel(dst, src []byte, _ int) []byte { return c.Encode(dst, src) }

func (lz4HadoopCodec) CompressBound(n int64) int64 {
	return 8 + int64(lz4.CompressBlockBound(int(n)))
}

// emptySafeSnappy is arrow's Snappy codec, except that an empty input
// decodes to an empty output.
type emptySafeSnappy struct{}

func (emptySafeSnappy) DecodeWithError(dst, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return dst[:0], nil
	}
	if n, err := snappy.DecodedLen(src); err == nil && n > cap(dst) {
		return nil, fmt.Errorf("the snappy block declares %d bytes, more than its page's buffer of %d", n, cap(dst))
	}
	return snappy.Decode(dst, src)
}

func (c emptySafeSnappy) Decode(dst, src []byte) []byte {
	out, err := c.DecodeWithError(dst, src)
	if err != nil {
		panic(err) // the Codec interface has no error; arrow recovers this
	}
	return out
}

func (emptySafeSnappy) Encode(dst, src []byte) []byte { return snappy.Encode(dst, src) }

func (emptySafeSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return snappy.Encode(dst, src) }

func (emptySafeSnappy) CompressBound(n int64) int64 { return int64(snappy.MaxEncodedLen(int(n))) }

func (emptySafeSnappy) NewReader(r io.Reader) io.ReadCloser { return io.NopCloser(snappy.NewReader(r)) }

func (emptySafeSnappy) NewWriter(w io.Writer) io.WriteCloser { return snappy.NewBufferedWriter(w) }

func (s emptySafeSnappy) NewWriterLevel(w io.Writer, _ int) (io.WriteCloser, error) {
	return s.NewWriter(w), nil
}

var _ compress.ErrorCodec = lz4HadoopCodec{}
var _ compress.ErrorCodec = emptySafeSnappy{}
var _ compress.StreamingCodec = emptySafeSnappy{}
