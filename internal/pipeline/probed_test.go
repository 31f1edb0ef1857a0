package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"

	"github.com/s3load/s3load/internal/demo"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/messages"
)

// spoolFiles lists the spool files in dir.
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "s3load-probed-*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestProbedFiles(t *testing.T) {
	src := func(i int) messages.Source {
		return messages.Source{Bucket: "b", Key: fmt.Sprintf("k%d", i), ETag: "e", Size: 1 << 20}
	}
	file := func(i int) []byte { return demo.WideCSV(i*140, 140) } // the harness's small files, ~10 KB

	t.Run("kept and taken once", func(t *testing.T) {
		dir := t.TempDir()
		temp := tempspace.New(dir, 0)
		var c probedFiles
		c.start(temp)
		for i := range 100 {
			c.put(src(i), file(i))
		}
		if n := len(spoolFiles(t, dir)); n != 1 {
			t.Fatalf("%d spool files for 100 kept files, want 1", n)
		}
		other := src(1)
		other.ETag = "changed"
		if _, ok := c.take(other); ok {
			t.Error("another version of a kept file was taken")
		}
		for _, i := range []int{99, 0, 50} {
			if got, ok := c.take(src(i)); !ok || !bytes.Equal(got, file(i)) {
				t.Fatalf("file %d's bytes did not come back as they were put", i)
			}
			if _, ok := c.take(src(i)); ok {
				t.Fatalf("file %d was taken twice", i)
			}
		}
		// A file probed again loads as probed last.
		c.put(src(1), file(1000))
		if got, ok := c.take(src(1)); !ok || !bytes.Equal(got, file(1000)) {
			t.Error("a file probed twice did not load its second bytes")
		}
		for i := range 100 {
			c.take(src(i))
		}
		if names := spoolFiles(t, dir); len(names) != 0 || temp.Used() != 0 {
			t.Errorf("with every file taken, spool files %v and %d bytes of the budget remain; want none", names, temp.Used())
		}
		// The next pre-flight starts a new spool.
		c.put(src(7), file(7))
		if got, ok := c.take(src(7)); !ok || !bytes.Equal(got, file(7)) {
			t.Error("a file kept after the spool was removed did not come back")
		}
	})

	t.Run("stop removes the spool", func(t *testing.T) {
		dir := t.TempDir()
		var c probedFiles
		c.start(tempspace.New(dir, 0))
		c.put(src(0), file(0))
		c.stop()
		if names := spoolFiles(t, dir); len(names) != 0 {
			t.Errorf("spool files %v after stop", names)
		}
		if _, ok := c.take(src(0)); ok {
			t.Error("a file was taken after stop")
		}
		c.put(src(1), file(1))
		if c.keeping() || len(spoolFiles(t, dir)) != 0 {
			t.Error("a file was kept after stop")
		}
	})

	t.Run("not keeping", func(t *testing.T) {
		var c probedFiles
		c.put(src(0), file(0))
		if _, ok := c.take(src(0)); ok || c.keeping() {
			t.Error("a file was kept before start")
		}
	})

	t.Run("caps", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			budget      int64 // limits.max_temp_bytes
			limit       int64 // the spool's own cap
			kept, taken int
		}{
			{"the temporary space budget", 25 << 10, probedSpoolMax, 2, 3},
			{"the spool's size", 0, 25 << 10, 2, 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				temp := tempspace.New(dir, tc.budget)
				var c probedFiles
				c.start(temp)
				c.limit = tc.limit
				for i := range 3 { // ~10 KB each: the third does not fit
					c.put(src(i), file(i))
				}
				if len(c.files) != tc.kept {
					t.Fatalf("%d files kept, want %d", len(c.files), tc.kept)
				}
				if _, ok := c.take(src(2)); ok {
					t.Error("a file over the cap was kept")
				}
				for i := range 2 {
					if got, ok := c.take(src(i)); !ok || !bytes.Equal(got, file(i)) {
						t.Errorf("file %d, kept under the cap, did not come back", i)
					}
				}
				// Once taken, the spool's room is back.
				c.put(src(2), file(2))
				if _, ok := c.take(src(2)); !ok {
					t.Error("a file was not kept once the spool was emptied")
				}
				if temp.Used() != 0 {
					t.Errorf("%d bytes of the budget still used", temp.Used())
				}
			})
		}
	})

	t.Run("a spool that keeps nothing goes", func(t *testing.T) {
		dir := t.TempDir()
		var c probedFiles
		c.start(tempspace.New(dir, 1)) // a budget no file fits
		c.put(src(0), file(0))
		if names := spoolFiles(t, dir); len(names) != 0 || len(c.files) != 0 {
			t.Errorf("spool files %v and %d kept files after the budget refused the only file", names, len(c.files))
		}
	})

	t.Run("expired files are dropped", func(t *testing.T) {
		dir := t.TempDir()
		var c probedFiles
		c.start(tempspace.New(dir, 0))
		for i := range 3 {
			c.put(src(i), file(i))
		}
		c.mu.Lock()
		for id, f := range c.files {
			f.at = time.Now().Add(-2 * probedTTL)
			c.files[id] = f
		}
		c.swept = time.Now().Add(-2 * probedTTL) // and the last sweep with them
		c.mu.Unlock()
		c.put(src(100), file(100))
		if len(c.files) != 1 {
			t.Errorf("%d files after expiry; want only the new one", len(c.files))
		}
		if c.spool.Size() != int64(len(file(100))) {
			t.Errorf("the spool holds %d bytes after every earlier file expired, want only the new file's %d", c.spool.Size(), len(file(100)))
		}
	})

	// The harness's 10,000 small files (~10 KB, 110 MB in all) are all
	// kept, whatever order probes and loads take, with files probed while
	// others load.
	t.Run("concurrent puts and takes", func(t *testing.T) {
		dir := t.TempDir()
		temp := tempspace.New(dir, 0)
		var c probedFiles
		c.start(temp)
		const files, probes = 10_000, 8
		var g errgroup.Group
		taken := make(chan int, files)
		for p := range probes {
			g.Go(func() error {
				for i := p; i < files; i += probes {
					c.put(src(i), file(i))
					taken <- i
				}
				return nil
			})
		}
		var loads errgroup.Group
		for range 2 {
			loads.Go(func() error {
				for i := range taken {
					if got, ok := c.take(src(i)); !ok || !bytes.Equal(got, file(i)) {
						return fmt.Errorf("file %d did not come back as it was put", i)
					}
				}
				return nil
			})
		}
		_ = g.Wait()
		close(taken)
		if err := loads.Wait(); err != nil {
			t.Fatal(err)
		}
		if names := spoolFiles(t, dir); len(names) != 0 || temp.Used() != 0 {
			t.Errorf("after every file was taken: spool files %v, %d bytes of the budget used", names, temp.Used())
		}
	})
}

// BenchmarkKeptBytes is what keeping a probed small file costs there and
// back, and how much of it stays on the heap: the spool (written to a
// temporary file, read back for its load) against keeping it in memory
// compressed, with S2 (as until the spool) or zstd's fastest level.
func BenchmarkKeptBytes(b *testing.B) {
	files := make([][]byte, 64)
	for i := range files {
		files[i] = demo.WideCSV(i*140, 140) // the harness's small files
	}
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false),
		zstd.WithWindowSize(probedFileMax), zstd.WithEncoderConcurrency(1))
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	var spool probedFiles
	spool.start(tempspace.New(b.TempDir(), 0))
	defer spool.stop()
	src := messages.Source{Bucket: "b", Key: "k", ETag: "e"}
	// One spool for each 10,000 files, as for the harness's load: a file
	// taken only then keeps it, as a load's other files do.
	other := messages.Source{Bucket: "b", Key: "other", ETag: "e"}
	spool.put(other, files[0])
	spoolFile := func(i int, raw []byte) []byte {
		if i%10_000 == 0 {
			spool.take(other)
			spool.put(other, files[0])
		}
		spool.put(src, raw)
		return nil
	}
	for _, bc := range []struct {
		name string
		// keep returns what the heap holds of raw, take raw again.
		keep func(i int, raw []byte) []byte
		take func([]byte) []byte
	}{
		{"spool", spoolFile, func([]byte) []byte { raw, _ := spool.take(src); return raw }},
		{"s2", func(_ int, raw []byte) []byte { return s2.Encode(nil, raw) },
			func(data []byte) []byte { raw, _ := s2.Decode(nil, data); return raw }},
		{"zstd-fastest", func(_ int, raw []byte) []byte { return enc.EncodeAll(raw, make([]byte, 0, len(raw)/4)) },
			func(data []byte) []byte { raw, _ := dec.DecodeAll(data, nil); return raw }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var in, held int
			for i := 0; b.Loop(); i++ {
				raw := files[i%len(files)]
				data := bc.keep(i, raw)
				in, held = in+len(raw), held+len(data)
				if got := bc.take(data); len(got) != len(raw) {
					b.Fatalf("%d bytes back of %d", len(got), len(raw))
				}
			}
			b.ReportMetric(100*float64(held)/float64(in), "%heap")
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
