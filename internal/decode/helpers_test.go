package decode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// memObject is an in-memory Object that can fail like a network would.
type memObject struct {
	name string
	data []byte
	// streamErr, if set, ends the stream from Open after failAfter bytes;
	// with errOnce the stream says it once and then that it ended, as a
	// body may after its connection broke.
	streamErr error
	failAfter int
	errOnce   bool
	openErr   error
	readAtErr error
	noOpen    bool         // Open fails: Parquet must use ranged reads only
	readAts   atomic.Int64 // ReadAt runs concurrently (the Parquet read-ahead)
}

func (o *memObject) Name() string { return o.name }
func (o *memObject) Size() int64  { return int64(len(o.data)) }

func (o *memObject) Open(ctx context.Context) (io.ReadCloser, error) {
	if o.noOpen {
		return nil, errors.New("Open must not be called")
	}
	if o.openErr != nil {
		return nil, o.openErr
	}
	if o.streamErr != nil {
		var tail io.Reader = errReader{o.streamErr}
		if o.errOnce {
			tail = &onceErrReader{err: o.streamErr}
		}
		return io.NopCloser(io.MultiReader(bytes.NewReader(o.data[:o.failAfter]), tail)), nil
	}
	return io.NopCloser(bytes.NewReader(o.data)), nil
}

// streamObject is a memObject that streams from an offset, as an S3
// object does (one request from there), in reads of at most 7,000 bytes,
// as a network body gives them.
type streamObject struct{ *memObject }

func (o streamObject) OpenAt(_ context.Context, off int64) (io.ReadCloser, error) {
	return io.NopCloser(&shortReader{r: bytes.NewReader(o.data[off:]), max: 7000}), nil
}

type shortReader struct {
	r   io.Reader
	max int
}

func (s *shortReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.max)]) }

func (o *memObject) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	o.readAts.Add(1)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if o.readAtErr != nil {
		return 0, o.readAtErr
	}
	return bytes.NewReader(o.data).ReadAt(p, off)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// onceErrReader fails its first read with err, and ends after it.
type onceErrReader struct{ err error }

func (e *onceErrReader) Read([]byte) (int, error) {
	err := e.err
	if err == nil {
		return 0, io.EOF
	}
	e.err = nil
	return 0, err
}

// result is what decoding a file produced.
type result struct {
	schema *arrow.Schema
	rows   []string // each row as "v1|v2|..."
	n      int64
	err    error
}

// decodeAll decodes obj with a checked allocator, failing the test on a
// leak, and renders every row.
func decodeAll(t *testing.T, obj Object, opts Options) result {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts.Mem = mem
	var res result
	res.n, res.err = Decode(context.Background(), obj, opts, func(rec arrow.RecordBatch) error {
		if res.schema == nil {
			res.schema = rec.Schema()
		} else if !res.schema.Equal(rec.Schema()) {
			t.Errorf("batch schema changed: %v then %v", res.schema, rec.Schema())
		}
		if opts.Schema != nil && !rec.Schema().Equal(opts.Schema) {
			t.Errorf("batch schema %v, want the table's %v", rec.Schema(), opts.Schema)
		}
		res.rows = append(res.rows, renderRows(rec)...)
		return nil
	})
	if res.err == nil && res.n != int64(len(res.rows)) {
		t.Errorf("Decode returned %d rows, emitted %d", res.n, len(res.rows))
	}
	return res
}

func renderRows(rec arrow.RecordBatch) []string {
	out := make([]string, rec.NumRows())
	for i := range out {
		var b strings.Builder
		for j, col := range rec.Columns() {
			if j > 0 {
				b.WriteByte('|')
			}
			b.WriteString(valueStr(col, i))
		}
		out[i] = b.String()
	}
	return out
}

func valueStr(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return "null"
	}
	if ts, ok := col.(*array.Timestamp); ok {
		unit := ts.DataType().(*arrow.TimestampType).Unit
		return ts.Value(i).ToTime(unit).UTC().Format("2006-01-02T15:04:05.999999999Z")
	}
	return col.ValueStr(i)
}

func mustErrAs[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, target)
	}
	return target
}

// schemaOf builds a nullable schema from name/type pairs.
func schemaOf(t *testing.T, pairs ...string) *arrow.Schema {
	t.Helper()
	var fs []arrow.Field
	for i := 0; i < len(pairs); i += 2 {
		dt, err := ParseType(pairs[i+1])
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, arrow.Field{Name: pairs[i], Type: dt, Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

func typesOf(s *arrow.Schema) string {
	var parts []string
	for _, f := range s.Fields() {
		parts = append(parts, f.Name+":"+f.Type.String())
	}
	return strings.Join(parts, ",")
}

func arrowSchemaNonNull(s *arrow.Schema) *arrow.Schema {
	fs := s.Fields()
	for i := range fs {
		fs[i].Nullable = false
	}
	return arrow.NewSchema(fs, nil)
}

func schemaFromJSONTypes(t *testing.T) *arrow.Schema {
	t.Helper()
	return arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
	}, nil)
}
