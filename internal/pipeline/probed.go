package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/messages"
)

// Under s3load run, the pre-flight reads a small file whole to read its
// schema, and the load of the same file, in the same process, takes those
// bytes instead of asking the store a second time. For a
// folder of small files a GET is most of a file's cost. The bytes are the
// listed version's (the read was pinned to its ETag), so the file loads as
// it was listed even if the object changed since, as a pinned read of a
// versioned bucket would.
const (
	// probedFileMax: larger files are sampled, not read whole.
	probedFileMax = 256 << 10
	// probedBytesMax bounds the bytes kept, as stored: compressed with S2,
	// which takes the harness's 10 KB CSV files to 43%, so its 10,000 fit
	// (~45 MB). zstd's fastest level took them to 19% in 32 MB, at 1.8
	// times the CPU there and back (42 against 23 µs a file,
	// BenchmarkKeptBytes): 13% of a small-file load's CPU in its profile.
	// Files probed once it is full are not kept: the load reads them as
	// usual.
	probedBytesMax = 48 << 20
	// probedTTL: bytes no load took by then (its file failed the
	// pre-flight, or loads on another worker) are dropped.
	probedTTL = 10 * time.Minute
)

// probedFiles holds small files' bytes from their probe until their load
// takes them, each pinned to its listed identity (bucket, key, ETag).
type probedFiles struct {
	mu    sync.Mutex
	on    bool
	size  int64
	files map[string]probedFile
	// swept is when expired bytes were last dropped: sweeping on every put
	// walked the whole map per probed file, quadratic in a load's files.
	swept time.Time
}

// KeepProbedFiles makes the pipeline keep the small files its probes read
// for their loads: for a process that both probes and loads (s3load run).
// Call it before the pipeline is used.
func (p *Pipeline) KeepProbedFiles() {
	p.probed.start()
}

// start turns keeping on.
func (c *probedFiles) start() {
	c.mu.Lock()
	c.on = true
	c.mu.Unlock()
}

// keeping says whether probed files are kept.
func (c *probedFiles) keeping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

type probedFile struct {
	data []byte
	at   time.Time
}

func (c *probedFiles) put(src messages.Source, raw []byte) {
	data := s2.Encode(nil, raw)
	if cap(data) > len(data)+len(data)/8 {
		data = bytes.Clone(data) // keep only what is used
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Sub(c.swept) > probedTTL/10 { // bytes outlive their TTL by a tenth at most
		c.swept = now
		for id, f := range c.files {
			if now.Sub(f.at) > probedTTL {
				delete(c.files, id)
				c.size -= int64(len(f.data))
			}
		}
	}
	if c.size+int64(len(data)) > probedBytesMax {
		return
	}
	if c.files == nil {
		c.files = map[string]probedFile{}
	}
	if old, ok := c.files[src.Identity()]; ok {
		c.size -= int64(len(old.data))
	}
	c.files[src.Identity()] = probedFile{data: data, at: now}
	c.size += int64(len(data))
}

// take returns and forgets the bytes of src, if kept.
func (c *probedFiles) take(src messages.Source) ([]byte, bool) {
	c.mu.Lock()
	f, ok := c.files[src.Identity()]
	if ok {
		delete(c.files, src.Identity())
		c.size -= int64(len(f.data))
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	raw, err := s2.Decode(nil, f.data)
	if err != nil {
		return nil, false // never: the bytes were encoded here; the store has them
	}
	return raw, true
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
