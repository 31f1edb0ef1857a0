// Package zstdpages owns the zstd codec of the Parquet pages s3load writes
// and reads. Importing it registers the codec with arrow-go.
//
// arrow-go's own codec keeps its encoders in a sync.Pool, which every
// garbage collection empties. A worker writing small parts collects often,
// so most of its pages paid for a new encoder: 20 MB allocated and cleared,
// ~5 ms, against ~0.3 ms to compress the page (BenchmarkEncodeAfterGC).
// Here encoders stay in a bounded free list, and their window is about a
// page's size, not zstd's default 8 MB (20 MB of memory an encoder): each
// page is compressed on its own, so no match reaches back past its start.
//
// Frames carry no content checksum (as libzstd writes them by default, and
// DuckDB and pyarrow with it): klauspost's encoder hashes every page's
// bytes with xxhash for one, 2.7% of a CSV load's CPU, to guard bytes that
// the store's own checksums (S3's, and the response checks of s3store)
// already guard end to end.
//
// A page is decoded into no more than the buffer the page reader sized for
// it (the page's uncompressed size, capped by the file's size and
// limits.max_decompressed_bytes): arrow-go's decoder allocated what a
// corrupt frame header declared, up to 32 KB for each byte of the page
// (~100 MB for a 3 KB one), before it found the rest corrupt.
package zstdpages

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// Window is the encoders' window: twice arrow-go's data page size (1 MB),
// as a page ends with the batch of values that fills it. A page larger
// still (values of hundreds of KB) only finds no match further back.
const Window = 2 << 20

// Arrow's codec registry is a plain map, safe to write only before any
// Parquet file is read or written, hence init.
func init() {
	registered, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic(err) // arrow-go registers zstd in its own init
	}
	base, ok := registered.(arrowZstd)
	if !ok {
		panic(fmt.Sprintf("arrow-go's zstd codec %T no longer decodes with errors and streams", registered))
	}
	compress.RegisterCodec(compress.Codecs.Zstd, newCodec(base, runtime.GOMAXPROCS(0)))
}

// arrowZstd is what arrow-go's zstd codec does beyond compress.Codec. Its
// page reader asks for both by type assertion: without DecodeWithError a
// corrupt page is a recovered panic, without the streams a column is
// decompressed whole instead of streamed.
type arrowZstd interface {
	compress.ErrorCodec
	compress.StreamingCodec
}

// codec encodes with kept encoders, decodes within the page and leaves
// streams to arrow-go's codec.
type codec struct {
	arrowZstd
	keep int           // encoders kept per level
	dec  *zstd.Decoder // safe for concurrent DecodeAll

	mu   sync.Mutex
	free map[zstd.EncoderLevel][]*zstd.Encoder
}

func newCodec(base arrowZstd, keep int) *codec {
	// arrow-go's decoder options but for the cap; none can fail.
	dec, _ := zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true))
	return &codec{arrowZstd: base, keep: max(keep, 1), dec: dec, free: map[zstd.EncoderLevel][]*zstd.Encoder{}}
}

// DecodeWithError decodes src into dst's capacity. A frame that declares
// more is refused by name; one that does not declare its size is stopped
// by the decoder where it passes dst's capacity.
func (c *codec) DecodeWithError(dst, src []byte) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(src); err == nil && h.HasFCS && h.FrameContentSize > uint64(cap(dst)) {
		return nil, fmt.Errorf("the zstd frame declares %d bytes, more than its page's buffer of %d", h.FrameContentSize, cap(dst))
	}
	return c.dec.DecodeAll(src, dst[:0])
}

func (c *codec) Decode(dst, src []byte) []byte {
	out, err := c.DecodeWithError(dst, src)
	if err != nil {
		panic(err) // the Codec interface has no error; arrow recovers this
	}
	return out
}

func (c *codec) Encode(dst, src []byte) []byte {
	return c.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

// EncodeLevel compresses src into one zstd frame, as arrow-go's does.
func (c *codec) EncodeLevel(dst, src []byte, level int) []byte {
	lvl := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		lvl = zstd.EncoderLevelFromZstd(level)
	}
	enc := c.get(lvl)
	out := enc.EncodeAll(src, dst[:0])
	c.put(lvl, enc)
	return out
}

func (c *codec) get(lvl zstd.EncoderLevel) *zstd.Encoder {
	c.mu.Lock()
	if fs := c.free[lvl]; len(fs) > 0 {
		enc := fs[len(fs)-1]
		c.free[lvl] = fs[:len(fs)-1]
		c.mu.Unlock()
		return enc
	}
	c.mu.Unlock()
	// The options are arrow-go's but for the window and the checksum;
	// none can fail.
	enc, _ := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(lvl),
		zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(Window),
		zstd.WithEncoderCRC(false))
	return enc
}

// put keeps enc unless as many are kept already: more pages compressed at
// once than that were a burst, and those encoders go to the collector.
func (c *codec) put(lvl zstd.EncoderLevel, enc *zstd.Encoder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.free[lvl]) < c.keep {
		c.free[lvl] = append(c.free[lvl], enc)
	}
}
