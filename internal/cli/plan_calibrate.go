package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/pipeline"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/messages"
)

// The calibration reads at most calibrateBytes of a table, whole files of
// up to that size (the largest first: small ones time mostly overhead), or
// the start of one larger uncompressed text file cut at a line end. It
// decodes them again until calibrateTime has passed (at most
// calibrateRounds times), so a tiny calibrationSample still times something.
const (
	calibrateBytes  = 4 << 20
	calibrateTime   = 200 * time.Millisecond
	calibrateRounds = 50
)

// calibrator measures how fast this machine decodes a table's files and
// writes them as Parquet, the way a worker does, in one goroutine; a load
// runs min(GOMAXPROCS, workers) of those at once.
type calibrator struct {
	store     *s3store.Store
	opts      map[string]decode.Options
	encodings pipeline.Encodings
	workers   int
}

type calibrationSample struct {
	src  messages.Source
	data []byte
}

func (c calibrator) calibrate(ctx context.Context, table string, files []messages.Source) (coordinator.Throughput, error) {
	opts := c.opts[table]
	opts.Mem = memory.DefaultAllocator
	samples, err := c.samples(ctx, files, opts)
	if err != nil {
		return coordinator.Throughput{}, err
	}
	var size int64
	for _, s := range samples {
		size += int64(len(s.data))
	}
	var took time.Duration
	var decoded int64
	for round := 0; round < calibrateRounds && took < calibrateTime; round++ {
		for _, s := range samples {
			start := time.Now()
			if err := decodeToParquet(ctx, s, opts, c.encodings); err != nil {
				return coordinator.Throughput{}, fmt.Errorf("decoding %s: %w", s.src, err)
			}
			took += time.Since(start)
			decoded += int64(len(s.data))
		}
	}
	if took <= 0 {
		return coordinator.Throughput{}, errors.New("the calibrationSample decoded in no measurable time")
	}
	perCore := float64(decoded) / took.Seconds()
	procs := runtime.GOMAXPROCS(0)
	workers := c.workers
	if workers <= 0 {
		workers = runtime.NumCPU() // s3load run's default
	}
	par := min(procs, workers)
	rate := perCore * float64(par)
	return coordinator.Throughput{BytesPerSec: rate, Basis: fmt.Sprintf(
		"%s measured on this machine: %d file(s), %d bytes, decoded to zstd Parquet %d time(s) at %s on one core, times %d (GOMAXPROCS %d, workers %d); reading from S3 not included",
		perSecond(rate), len(samples), size, int(decoded/max(size, 1)), perSecond(perCore), par, procs, workers)}, nil
}

// samples reads the files calibration decodes: never more than
// calibrateBytes in all.
func (c calibrator) samples(ctx context.Context, files []messages.Source, opts decode.Options) ([]calibrationSample, error) {
	by := append([]messages.Source(nil), files...)
	sort.SliceStable(by, func(i, j int) bool { return by[i].Size > by[j].Size })
	var out []calibrationSample
	var total int64
	for _, src := range by {
		if src.Size <= 0 || total+src.Size > calibrateBytes {
			continue
		}
		data, err := c.read(ctx, src, src.Size)
		if err != nil {
			return nil, err
		}
		out, total = append(out, calibrationSample{src: src, data: data}), total+int64(len(data))
		if len(out) == 3 {
			break
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// Every file is larger: the start of one text file, cut at a line end.
	for _, src := range by {
		format, compression, err := decode.Describe(src.Key, opts)
		if err != nil || compression != decode.CompressionNone || (format != decode.FormatCSV && format != decode.FormatJSON) {
			continue
		}
		data, err := c.read(ctx, src, calibrateBytes)
		if err != nil {
			return nil, err
		}
		if i := bytes.LastIndexByte(data, '\n'); i > 0 {
			return []calibrationSample{{src: src, data: data[:i+1]}}, nil
		}
	}
	return nil, fmt.Errorf("no file to measure on: every file is over %d MB and compressed or Parquet", calibrateBytes>>20)
}

// read reads up to n bytes from the start of src: one GET.
func (c calibrator) read(ctx context.Context, src messages.Source, n int64) ([]byte, error) {
	rc, err := c.store.Object(src).Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, n))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src, err)
	}
	return data, nil
}

// decodeToParquet decodes a calibrationSample and writes it as a worker writes a
// part (pipeline.NewPartWriter), to nowhere.
func decodeToParquet(ctx context.Context, s calibrationSample, opts decode.Options, enc pipeline.Encodings) error {
	obj := decode.ReaderObject(s.src.String(), bytes.NewReader(s.data), int64(len(s.data)))
	var w pipeline.PartWriter
	_, err := decode.Decode(ctx, obj, opts, func(rec arrow.RecordBatch) error {
		if w == nil {
			var err error
			if w, err = pipeline.NewPartWriter(rec.Schema(), io.Discard, enc); err != nil {
				return err
			}
		}
		return w.WriteBuffered(rec)
	})
	if w != nil {
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// perSecond writes a rate in the unit that shows it.
func perSecond(b float64) string {
	switch {
	case b >= 1e6:
		return fmt.Sprintf("%.0f MB/s", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.0f KB/s", b/1e3)
	}
	return fmt.Sprintf("%.0f B/s", b)
}
