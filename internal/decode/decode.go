package decode

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// ErrEmpty marks a file that gives no schema because it holds no column:
// an empty JSON array or file. It is not a bad file: its rows (none) load
// into a table whose schema comes from elsewhere.
var ErrEmpty = errors.New("the file holds no column to infer a schema from")

// Infer reads a bounded sample of obj (the footer for Parquet; at most
// sampleRows rows or sampleBytes bytes of CSV and JSON) and returns the
// file's schema.
func Infer(ctx context.Context, obj Object, opts Options) (schema *arrow.Schema, err error) {
	s, err := resolve(obj.Name(), opts)
	if err != nil {
		return nil, err
	}
	errs := &ioErrors{name: obj.Name()}
	g := &emitGuard{}
	defer g.recover(obj.Name(), &err)
	var format Format
	err = run(ctx, obj, &s, errs, func(p *pqFile) error {
		schema, format = p.schema, FormatParquet
		return nil
	}, func(cr *csvReader) error {
		format = FormatCSV
		schema, err = inferCSV(cr, &s)
		return err
	}, func(sc *jsonReader) error {
		format = FormatJSON
		schema, err = inferJSON(sc, s.onReject != nil)
		return err
	})
	if err != nil {
		return nil, errs.prefer(err)
	}
	return withSourceFormat(schema, format), nil
}

// Decode streams obj as record batches that conform exactly to
// opts.Schema, or to the file's inferred schema when it is nil, and returns
// the number of rows emitted. emit must not retain the batch after it
// returns; its error stops decoding and is returned unchanged.
func Decode(ctx context.Context, obj Object, opts Options, emit func(arrow.RecordBatch) error) (rows int64, err error) {
	s, err := resolve(obj.Name(), opts)
	if err != nil {
		return 0, err
	}
	if r := opts.Range; r != nil && (r.Start > 0 || r.End < obj.Size()) {
		switch s.format {
		case FormatParquet:
			s.rowGroups = r
		case FormatCSV, FormatJSON:
			if s.recorded == nil {
				// The range must know now whether a header comes first.
				s.detect.Header = false
			}
			obj = &lineRange{Object: obj, r: *r, header: s.format == FormatCSV && s.header}
		default:
			return 0, fmt.Errorf("%s: a byte range needs the format (csv, json or parquet)", obj.Name())
		}
	}
	var rg *rejectGuard
	if s.onReject != nil {
		rg = &rejectGuard{fn: s.onReject}
		s.onReject = rg.report
	}
	errs := &ioErrors{name: obj.Name()}
	g := &emitGuard{fn: emit}
	defer g.recover(obj.Name(), &err)
	err = run(ctx, obj, &s, errs, func(p *pqFile) error {
		rows, err = decodeParquet(ctx, p, &s, g.emit)
		return err
	}, func(cr *csvReader) error {
		rows, err = decodeCSV(ctx, cr, &s, g.emit)
		return err
	}, func(sc *jsonReader) error {
		rows, err = decodeJSON(ctx, sc, &s, g.emit)
		return err
	})
	if err != nil && !g.isEmitErr(err) && !rg.isRejectErr(err) && !isContextErr(err) {
		err = errs.prefer(err)
	}
	return rows, err
}

// run opens obj as whatever format it turns out to be and hands it to the
// matching function.
func run(ctx context.Context, obj Object, s *settings, errs *ioErrors,
	parquetFn func(*pqFile) error, csvFn func(*csvReader) error, jsonFn func(*jsonReader) error) error {
	if s.format != FormatParquet {
		st, err := openStream(ctx, obj, s, errs)
		if err != nil {
			return err
		}
		defer st.Close()
		format := s.format
		if looksLikeParquet(st.Reader) {
			if format != "" {
				return dataErrf(obj.Name(), 0, "", "content looks like Parquet, not %s", format)
			}
			format = FormatParquet
		}
		if format == "" {
			format, err = sniffFormat(obj.Name(), st)
			if err != nil {
				return err
			}
		}
		switch format {
		case FormatCSV:
			if err := s.settleDialect(obj.Name(), st); err != nil {
				return err
			}
			return csvFn(s.csvFileReader(obj.Name(), st))
		case FormatJSON:
			jr := newJSONReader(st.Reader, obj.Name())
			jr.expect(st.size)
			return jsonFn(jr)
		}
		st.Close() // Parquet reads by range instead
	}
	src, err := openParquetSource(ctx, obj, s, errs)
	if err != nil {
		return err
	}
	defer src.cleanup()
	// Each column chunk's page reader allocates its page buffers anew and
	// releases them when the chunk is read: recycled, they serve the next
	// chunk's pages (allocating and zeroing them was 6% of a Parquet
	// conversion). Recycled memory is not zeroed: arrow-go fills every
	// byte of a page buffer it uses, and its decoders, which get this
	// allocator too, expect no zeroing (its C++ allocator does none).
	pageMem := newRecycler(s.mem)
	defer pageMem.close()
	p, err := openParquet(src, s, pageMem)
	if err != nil {
		return err
	}
	return parquetFn(p)
}

// sniffFormat guesses the format of content whose name says nothing:
// JSON if it starts with '{' or '['; otherwise the caller must say.
func sniffFormat(name string, st *stream) (Format, error) {
	b, _ := st.Peek(512)
	for _, c := range b {
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		if c == '{' || c == '[' {
			return FormatJSON, nil
		}
		break
	}
	return "", dataErrf(name, 0, "", "cannot tell the format from the name or the content; set the format")
}

// emitGuard tells the caller's emit apart from the decoders: a panic in
// emit is the caller's and is re-raised, and emit's errors are returned
// unchanged.
type emitGuard struct {
	fn  func(arrow.RecordBatch) error
	err error
}

func (g *emitGuard) emit(rec arrow.RecordBatch) error {
	panicking := true
	defer func() {
		if !panicking {
			return
		}
		// Mark the panic as the caller's so no recover here keeps it.
		// (recover is nil for runtime.Goexit, which must go on unhindered.)
		if r := recover(); r != nil {
			panic(emitPanic{r})
		}
	}()
	err := g.fn(rec)
	panicking = false
	if err != nil {
		g.err = err
	}
	return err
}

// emitPanic carries a panic raised by the caller's emit through the
// decoders' recovers.
type emitPanic struct{ value any }

func (g *emitGuard) isEmitErr(err error) bool {
	return g.err != nil && err == g.err
}

// recover turns a decoder panic into a DataError in *err: arrow-go panics
// on some corrupt input, and a worker must not crash on a bad file. The
// caller's own panics from emit are raised again.
func (g *emitGuard) recover(name string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if ep, ok := r.(emitPanic); ok {
		panic(ep.value)
	}
	*err = &DataError{File: name, RowGroup: -1, Err: fmt.Errorf("decoder panic: %v", r)}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
