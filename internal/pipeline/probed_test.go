package pipeline

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/s3load/s3load/internal/demo"
	"github.com/s3load/s3load/messages"
)

func TestProbedFiles(t *testing.T) {
	src := func(i int) messages.Source {
		return messages.Source{Bucket: "b", Key: fmt.Sprintf("k%d", i), ETag: "e", Size: 1 << 20}
	}
	var c probedFiles
	c.start()
	mb := make([]byte, 1<<20)
	if _, err := rand.Read(mb); err != nil { // does not compress
		t.Fatal(err)
	}
	for i := range 70 { // 70 MiB offered, about 48 kept: the first ones
		c.put(src(i), mb)
	}
	if c.size > probedBytesMax || c.size < probedBytesMax-2<<20 {
		t.Fatalf("%d bytes kept, want up to the cap %d", c.size, probedBytesMax)
	}
	if got, ok := c.take(src(1)); !ok || !bytes.Equal(got, mb) {
		t.Fatal("a kept file's bytes did not come back as they were put")
	}
	if _, ok := c.take(src(69)); ok {
		t.Error("a file offered past the cap was kept")
	}
	if _, ok := c.take(src(0)); !ok {
		t.Error("the first file was not kept")
	}
	if _, ok := c.take(src(0)); ok {
		t.Error("a file was taken twice")
	}
	other := src(1)
	other.ETag = "changed"
	if _, ok := c.take(other); ok {
		t.Error("another version of a kept file was taken")
	}
	// Bytes no load took are dropped after probedTTL.
	c.mu.Lock()
	for id, f := range c.files {
		f.at = time.Now().Add(-2 * probedTTL)
		c.files[id] = f
	}
	c.swept = time.Now().Add(-2 * probedTTL) // and the last sweep with them
	c.mu.Unlock()
	c.put(src(100), mb)
	if len(c.files) != 1 || c.size < 1<<20 || c.size > 1<<20+1<<10 {
		t.Errorf("%d files, %d bytes after expiry; want only the new one", len(c.files), c.size)
	}

	// Text is kept compressed: twice the cap of CSV files all fit, and the
	// small files of the harness too.
	var text probedFiles
	text.start()
	csv := demo.WideCSV(0, 1400) // ~100 KB
	n := 2 * probedBytesMax / len(csv)
	for i := range n {
		text.put(src(i), csv)
	}
	if len(text.files) != n {
		t.Errorf("%d of %d CSV files (%d MiB) kept in %d MiB", len(text.files), n, n*len(csv)>>20, probedBytesMax>>20)
	}
	var held int
	for _, f := range text.files {
		held += cap(f.data)
	}
	if held > probedBytesMax {
		t.Errorf("the kept files hold %d bytes of memory, more than the cap %d", held, probedBytesMax)
	}
	if got, ok := text.take(src(n - 1)); !ok || !bytes.Equal(got, csv) {
		t.Error("a kept CSV file's bytes did not come back as they were put")
	}

	// The harness's 10,000 files of 140 rows (~10 KB, 110 MB in all).
	var small probedFiles
	small.start()
	const files = 10_000
	for i := range files {
		small.put(src(i), demo.WideCSV(i*140, 140))
	}
	if len(small.files) != files {
		t.Errorf("%d of %d small CSV files kept in %d MiB (%d bytes held)", len(small.files), files, probedBytesMax>>20, small.size)
	}
	if got, ok := small.take(src(files - 1)); !ok || !bytes.Equal(got, demo.WideCSV((files-1)*140, 140)) {
		t.Error("the last small file's bytes did not come back as they were put")
	}
}

// BenchmarkKeptBytes is what keeping a probed small file costs there and
// back (compress it, then decompress it for its load), and how much of it
// is held: S2, kept, against zstd's fastest level, which held less than
// half as much for 1.8 times the CPU.
func BenchmarkKeptBytes(b *testing.B) {
	files := make([][]byte, 64)
	for i := range files {
		files[i] = demo.WideCSV(i*140, 140) // the harness's small files
	}
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false),
		zstd.WithWindowSize(probedFileMax), zstd.WithEncoderConcurrency(1))
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	for _, bc := range []struct {
		name       string
		keep, take func([]byte) []byte
	}{
		{"s2", func(raw []byte) []byte { return s2.Encode(nil, raw) },
			func(data []byte) []byte { raw, _ := s2.Decode(nil, data); return raw }},
		{"zstd-fastest", func(raw []byte) []byte { return enc.EncodeAll(raw, make([]byte, 0, len(raw)/4)) },
			func(data []byte) []byte { raw, _ := dec.DecodeAll(data, nil); return raw }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var in, held int
			for i := 0; b.Loop(); i++ {
				raw := files[i%len(files)]
				data := bc.keep(raw)
				in, held = in+len(raw), held+len(data)
				if got := bc.take(data); len(got) != len(raw) {
					b.Fatalf("%d bytes back of %d", len(got), len(raw))
				}
			}
			b.ReportMetric(100*float64(held)/float64(in), "%held")
		})
	}
}

// readSized reads what io.ReadAll would, whatever the listed size says and
// however the reader splits its reads, and passes a read error on.
func TestReadSized(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 1000)
	for _, tc := range []struct {
		name   string
		listed int64
		r      func() io.Reader
	}{
		{"listed size", 10_000, func() io.Reader { return bytes.NewReader(content) }},
		{"larger than listed", 4_000, func() io.Reader { return bytes.NewReader(content) }},
		{"smaller than listed", 20_000, func() io.Reader { return bytes.NewReader(content) }},
		{"empty", 0, func() io.Reader { return bytes.NewReader(nil) }},
		{"a byte a read", 10_000, func() io.Reader { return iotest.OneByteReader(bytes.NewReader(content)) }},
		{"data with EOF", 10_000, func() io.Reader { return iotest.DataErrReader(bytes.NewReader(content)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readSized(tc.r(), tc.listed)
			want, _ := io.ReadAll(tc.r())
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes, %v; want %d bytes, as io.ReadAll", len(got), err, len(want))
			}
		})
	}
	broken := errors.New("connection reset by peer")
	if _, err := readSized(io.MultiReader(bytes.NewReader(content[:100]), iotest.ErrReader(broken)), 10_000); !errors.Is(err, broken) {
		t.Errorf("a read failing after 100 bytes gave %v, want its error", err)
	}
}
