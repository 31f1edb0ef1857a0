package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/messages"
)

// Under s3load run, the pre-flight reads a small file whole to read its
// schema, and the load of the same file, in the same process, takes those
// bytes instead of asking the store a second time. For a
// folder of small files a GET is most of a file's cost. The bytes are the
// listed version's (the read was pinned to its ETag), so the file loads as
// it was listed even if the object changed since, as a pinned read of a
// versioned bucket would.
//
// The bytes wait in a spool file on the worker's scratch disk, not in
// memory: kept on the heap (as S2, 43% of a CSV file's bytes) the
// harness's 10,000 small files were 43 MB of a live heap the collector
// doubles, and the load's peak RSS reached 256 MB, the limit a
// worker. In the spool they are the kernel's page cache, which it can
// write out and reclaim, and writing and reading them back costs less CPU
// than S2 did there and back (BenchmarkKeptBytes).
const (
	// probedFileMax: larger files are sampled, not read whole.
	probedFileMax = 256 << 10
	// probedSpoolMax bounds a spool's size. Files probed once it is full
	// are not kept (nor when limits.max_temp_bytes is spent): the load
	// reads them as usual.
	probedSpoolMax = 1 << 30
	// probedTTL: bytes no load took by then (its file failed the
	// pre-flight, or loads on another worker) are dropped.
	probedTTL = 10 * time.Minute
)

// probedFiles holds small files' bytes from their probe until their load
// takes them, each pinned to its listed identity (bucket, key, ETag).
type probedFiles struct {
	mu sync.Mutex
	// temp is where the spool is made; nil: files are not kept.
	temp *tempspace.Budget
	// spool holds the kept bytes, appended; nil until a file is kept, and
	// removed (its bytes given back to temp) once it holds no file, so a
	// load's spool lives from its pre-flight to the end of its load.
	spool *tempspace.File
	// limit is the spool's largest size: probedSpoolMax.
	limit int64
	files map[string]probedFile
	// swept is when expired files were last dropped: sweeping on every put
	// walked the whole map per probed file, quadratic in a load's files.
	swept time.Time
}

// KeepProbedFiles makes the pipeline keep the small files its probes read
// for their loads, in a spool file under temp: for a process that both
// probes and loads (s3load run). Call it before the pipeline is used, and
// stop, which removes the spool, once it is no longer used.
func (p *Pipeline) KeepProbedFiles(temp *tempspace.Budget) (stop func()) {
	p.probed.start(temp)
	return p.probed.stop
}

// start turns keeping on.
func (c *probedFiles) start(temp *tempspace.Budget) {
	c.mu.Lock()
	c.temp, c.limit = temp, probedSpoolMax
	c.mu.Unlock()
}

// stop forgets every kept file and removes the spool.
func (c *probedFiles) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.temp, c.files = nil, nil
	c.dropEmptySpool()
}

// keeping says whether probed files are kept.
func (c *probedFiles) keeping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.temp != nil
}

// probedFile is where a kept file's bytes are in the spool.
type probedFile struct {
	off, n int64
	at     time.Time
}

// put keeps raw, the bytes of src, if the spool has room. A file that
// cannot be kept is not an error: its load reads it from the store.
func (c *probedFiles) put(src messages.Source, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.temp == nil {
		return
	}
	now := time.Now()
	if now.Sub(c.swept) > probedTTL/10 { // files outlive their TTL by a tenth at most
		c.swept = now
		for id, f := range c.files {
			if now.Sub(f.at) > probedTTL {
				delete(c.files, id)
			}
		}
		c.dropEmptySpool()
	}
	if c.spool == nil {
		f, err := c.temp.Create("s3load-probed-*")
		if err != nil {
			return
		}
		c.spool = f
	}
	off := c.spool.Size()
	if off+int64(len(raw)) > c.limit {
		return
	}
	if n, err := c.spool.Write(raw); err != nil || n != len(raw) {
		// Over limits.max_temp_bytes, or the disk's fault: not kept, and
		// a spool that holds nothing goes.
		c.dropEmptySpool()
		return
	}
	if c.files == nil {
		c.files = map[string]probedFile{}
	}
	// A file probed again replaces its earlier bytes, which stay in the
	// spool, unreferenced, until it is removed.
	c.files[src.Identity()] = probedFile{off: off, n: int64(len(raw)), at: now}
}

// take returns and forgets the bytes of src, if kept.
func (c *probedFiles) take(src messages.Source) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.files[src.Identity()]
	if !ok {
		return nil, false
	}
	delete(c.files, src.Identity())
	// Read under the lock: a page-cache read of a few µs, and another take
	// could otherwise remove the spool under this one.
	raw := make([]byte, f.n)
	_, err := c.spool.ReadAt(raw, f.off) // an error only for a short read
	c.dropEmptySpool()
	if err != nil {
		return nil, false // the disk's fault: the load reads the store
	}
	return raw, true
}

// dropEmptySpool removes the spool once it keeps no file, giving its bytes
// back to temp. c.mu is held.
func (c *probedFiles) dropEmptySpool() {
	if len(c.files) == 0 && c.spool != nil {
		_ = c.spool.Remove() // a temporary file: nothing to do if it cannot be removed
		c.spool = nil
	}
}

// probeObject is src as the pre-flight reads it: a small file read whole,
// once, and kept for its load.
func (p *Pipeline) probeObject(ctx context.Context, src messages.Source) (decode.Object, error) {
	obj := p.source.Object(src)
	if src.Size <= 0 || src.Size > probedFileMax || !p.probed.keeping() {
		return obj, nil
	}
	rc, err := obj.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := readSized(rc, src.Size)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", obj.Name(), err)
	}
	p.probed.put(src, data)
	return decode.ReaderObject(obj.Name(), bytes.NewReader(data), int64(len(data))), nil
}

// readSized reads r to its end into one buffer of the size the listing
// gave (as lake's files manifest is read), growing it only for an object
// larger than that: io.ReadAll's doubling from 512 bytes made and cleared
// five buffers for a 10 KB file.
func readSized(r io.Reader, size int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(size) + bytes.MinRead)
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// loadObject is src for its load: the pre-flight's bytes when this
// process kept them, else the store's object.
func (p *Pipeline) loadObject(src messages.Source) decode.Object {
	obj := p.source.Object(src)
	if data, ok := p.probed.take(src); ok {
		return decode.ReaderObject(obj.Name(), bytes.NewReader(data), int64(len(data)))
	}
	return obj
}
