package zstdpages

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// page is a data page's worth of bytes that compress some, as a column's do.
func page(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(8))
	}
	return b
}

func TestRegistered(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*codec); !ok {
		t.Fatalf("the registered zstd codec is %T, not this package's", c)
	}
	// The page reader looks for these by type assertion (see arrowZstd).
	if _, ok := c.(compress.ErrorCodec); !ok {
		t.Error("the registered zstd codec does not decode with errors")
	}
	if _, ok := c.(compress.StreamingCodec); !ok {
		t.Error("the registered zstd codec does not stream")
	}
}

func TestRoundTrip(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		size  int
		level int
	}{
		{"empty", 0, compress.DefaultCompressionLevel},
		{"small page", 4 << 10, 3},
		{"page", Window, 3},
		{"larger than the window", 3 * Window, 1},
		{"default level", 300 << 10, compress.DefaultCompressionLevel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := page(tc.size)
			enc := c.EncodeLevel(nil, src, tc.level)
			if tc.size > 0 && len(enc) >= len(src) {
				t.Errorf("%d bytes compressed to %d", len(src), len(enc))
			}
			got, err := compress.Decode(c, make([]byte, 0, len(src)), enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, src) {
				t.Fatalf("decoded %d bytes, not the %d encoded", len(got), len(src))
			}
			// The frame header descriptor's bit 2 is the content checksum
			// flag (RFC 8878, 3.1.1.1.1): left out (see the package doc).
			if len(enc) < 5 || enc[4]&0x04 != 0 {
				t.Errorf("frame header % x: want no content checksum", enc[:min(len(enc), 5)])
			}
		})
	}
}

// TestDecodeStaysInThePage checks that no frame decodes past the buffer
// the page reader gives it, whether its header declares more or declares
// nothing (a stream's frame).
func TestDecodeStaysInThePage(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	// Larger than the decoder's own state, which it makes as it goes.
	src := page(8 << 20)
	stream := func(src []byte) []byte {
		var b bytes.Buffer
		w, _ := zstd.NewWriter(&b)
		w.Write(src)
		w.Close()
		return b.Bytes()
	}
	zeros := make([]byte, 64<<20)
	for _, tc := range []struct {
		name  string
		want  []byte
		enc   []byte
		dst   int
		alloc int    // at most, beside the decoder's state
		msg   string // "" means it decodes
	}{
		{"a frame into its page", src, c.Encode(nil, src), len(src), len(src) / 4, ""},
		{"a stream's frame into its page", src, stream(src), len(src), len(src) / 4, ""},
		{"a frame declaring more than its page", nil, c.Encode(nil, src), len(src) / 2, len(src) / 4,
			"the zstd frame declares 8388608 bytes, more than its page's buffer of 4194304"},
		// Found a block past the buffer: that block grew it once.
		{"a stream's 64 MiB frame into a 4 MiB page", nil, stream(zeros), 4 << 20, 8 << 20, "decompressed size exceeds configured limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, tc.dst)
			compress.Decode(c, dst, tc.enc) // the decoder's own state, made once
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := compress.Decode(c, dst, tc.enc)
			runtime.ReadMemStats(&after)
			switch {
			case tc.msg == "" && (err != nil || !bytes.Equal(got, tc.want)):
				t.Fatalf("decoded %d bytes, not the %d encoded: %v", len(got), len(tc.want), err)
			case tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)):
				t.Fatalf("error %v, want one containing %q", err, tc.msg)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > uint64(tc.alloc) {
				t.Errorf("%d bytes allocated decoding into a buffer of %d", n, tc.dst)
			}
		})
	}
}

// TestEncodersOutliveCollections fails on arrow-go's pool: after a
// collection its next page allocates a whole new encoder (~20 MB).
func TestEncodersOutliveCollections(t *testing.T) {
	c := newCodec(mustBase(t), 1)
	src := page(300 << 10)
	dst := make([]byte, 0, len(src))
	c.EncodeLevel(dst, src, 3)
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c.EncodeLevel(dst, src, 3)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Fatalf("a page after a collection allocated %d bytes: the encoder was not kept", got)
	}
}

func TestKeepsAtMostKeep(t *testing.T) {
	c := newCodec(mustBase(t), 2)
	lvl := zstd.EncoderLevelFromZstd(3)
	encs := []*zstd.Encoder{c.get(lvl), c.get(lvl), c.get(lvl)}
	for _, e := range encs {
		c.put(lvl, e)
	}
	if n := len(c.free[lvl]); n != 2 {
		t.Fatalf("%d encoders kept, want 2", n)
	}
	if c.get(lvl) != encs[1] {
		t.Fatal("get did not hand out the last encoder kept")
	}
}

func mustBase(t testing.TB) arrowZstd {
	t.Helper()
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*codec).arrowZstd
}

// BenchmarkEncodeAfterGC is a page compressed after a collection, as in a
// worker writing small parts: arrow-go's codec against this one.
func BenchmarkEncodeAfterGC(b *testing.B) {
	src := page(300 << 10)
	base := mustBase(b)
	for _, bc := range []struct {
		name  string
		codec compress.Codec
	}{{"arrow", base}, {"kept", newCodec(base, 1)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				runtime.GC()
				b.StartTimer()
				bc.codec.EncodeLevel(nil, src, 3)
			}
		})
	}
}
