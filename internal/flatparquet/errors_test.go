package flatparquet

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

func TestSupported(t *testing.T) {
	for _, dt := range testTypes {
		for _, nullable := range []bool{false, true} {
			if !Supported(arrow.NewSchema([]arrow.Field{{Name: "c", Type: dt, Nullable: nullable}}, nil)) {
				t.Errorf("%s not supported", dt)
			}
		}
	}
	unsupported := []arrow.DataType{
		arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64}),
		arrow.ListOf(arrow.PrimitiveTypes.Int64),
		arrow.LargeListOf(arrow.BinaryTypes.String),
		arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int32),
		arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64),
		&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String},
		&arrow.Decimal128Type{Precision: 10, Scale: 2},
		&arrow.Decimal256Type{Precision: 40, Scale: 2},
		&arrow.FixedSizeBinaryType{ByteWidth: 16},
		arrow.FixedWidthTypes.Float16,
		arrow.FixedWidthTypes.Timestamp_s,
		arrow.FixedWidthTypes.Time32s,
		arrow.FixedWidthTypes.Date64,
		arrow.FixedWidthTypes.MonthInterval,
		arrow.FixedWidthTypes.Duration_ms,
		arrow.Null,
		arrow.BinaryTypes.StringView,
		extensions.NewUUIDType(),
	}
	for _, dt := range unsupported {
		sc := arrow.NewSchema([]arrow.Field{{Name: "ok", Type: arrow.PrimitiveTypes.Int64}, {Name: "c", Type: dt, Nullable: true}}, nil)
		if Supported(sc) {
			t.Errorf("%s supported", dt)
		}
		if _, err := NewWriter(sc, io.Discard, testProps(memory.DefaultAllocator), true); err == nil {
			t.Errorf("NewWriter accepts %s", dt)
		}
	}
	if Supported(nil) || Supported(arrow.NewSchema(nil, nil)) {
		t.Error("an empty schema is supported")
	}
}

// TestRefusedProps checks that NewWriter refuses what it would not honour.
func TestRefusedProps(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64},
		{Name: "t", Type: arrow.FixedWidthTypes.Timestamp_ns},
	}, nil)
	mem := memory.DefaultAllocator
	cases := map[string]*parquet.WriterProperties{
		"defaults (dictionaries on)": nil,
		"dictionary for an integer":  testProps(mem, parquet.WithDictionaryFor("i", true)),
		"dictionary falling back to delta": testProps(mem, parquet.WithDictionaryFor("s", true),
			parquet.WithEncodingFor("s", parquet.Encodings.DeltaLengthByteArray)),
		"data page v2":            testProps(mem, parquet.WithDataPageVersion(parquet.DataPageV2)),
		"page index":              testProps(mem, parquet.WithPageIndexEnabled(true)),
		"bloom filter":            testProps(mem, parquet.WithBloomFilterEnabledFor("i", true)),
		"delta length byte array": testProps(mem, parquet.WithEncodingFor("s", parquet.Encodings.DeltaLengthByteArray)),
		"delta for a double":      testProps(mem, parquet.WithEncodingFor("f", parquet.Encodings.DeltaBinaryPacked)),
		"split for a string":      testProps(mem, parquet.WithEncodingFor("s", parquet.Encodings.ByteStreamSplit)),
		"nanoseconds as micros":   testProps(mem, parquet.WithVersion(parquet.V2_4)),
		"no row groups":           testProps(mem, parquet.WithMaxRowGroupLength(0)),
		"codec not registered":    testProps(mem, parquet.WithCompression(compress.Codecs.Lzo)),
	}
	for name, props := range cases {
		if _, err := NewWriter(sc, io.Discard, props, true); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestBadBatches checks that batches the writer cannot take are errors,
// not crashes, and that a batch of another schema leaves the file whole.
func TestBadBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	good := makeBatches(mem, sc, layout{batches: []int{10}}, noNulls)
	defer release(good)

	other := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int32}}, nil)
	wrong := makeBatches(mem, other, layout{batches: []int{10}}, noNulls)
	defer release(wrong)
	// a non-nullable field whose array has nulls
	nullsIn := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	withNulls := makeBatches(mem, nullsIn, layout{batches: []int{10}}, allNulls)
	defer release(withNulls)
	lying := array.NewRecordBatch(sc, []arrow.Array{withNulls[0].Column(0)}, 10)
	defer lying.Release()

	var buf bytes.Buffer
	w, err := NewWriter(sc, &buf, testProps(mem), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBuffered(good[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBuffered(wrong[0]); err == nil {
		t.Error("a batch of another schema accepted")
	}
	if err := w.WriteBuffered(lying); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("nulls in a required column: %v", err)
	}
	if err := w.WriteBuffered(nil); err == nil {
		t.Error("nil batch accepted")
	}
	if err := w.WriteBuffered(good[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBuffered(good[0]); err == nil {
		t.Error("WriteBuffered after Close accepted")
	}
	checkRoundTrip(t, buf.Bytes(), sc, []arrow.RecordBatch{good[0], good[0]})
}

// failing fails every write after the first limit bytes and counts Close.
type failing struct {
	limit  int
	closed int
}

var errFull = errors.New("disk full")

func (f *failing) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n := f.limit
		f.limit = 0
		return n, errFull
	}
	f.limit -= len(p)
	return len(p), nil
}

func (f *failing) Close() error {
	f.closed++
	return nil
}

// TestWriteErrors checks that a failing destination is an error from
// WriteBuffered or Close, that it sticks, and that Close closes the
// destination once, as pqarrow's does.
func TestWriteErrors(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	batches := makeBatches(memory.DefaultAllocator, sc, layout{batches: []int{1000, 1000, 1000}}, someNulls)
	defer release(batches)
	props := testProps(memory.DefaultAllocator, parquet.WithMaxRowGroupLength(1500))
	for _, limit := range []int{0, 2, 100, 1000, 3000} {
		dst := &failing{limit: limit}
		w, err := NewWriter(sc, dst, props, true)
		if err != nil {
			if limit >= 4 {
				t.Fatal(err)
			}
			continue
		}
		var werr error
		for _, b := range batches {
			if werr = w.WriteBuffered(b); werr != nil {
				break
			}
		}
		cerr := w.Close()
		if !errors.Is(werr, errFull) && !errors.Is(cerr, errFull) {
			t.Errorf("limit %d: write %v, close %v", limit, werr, cerr)
		}
		if werr != nil && !errors.Is(w.WriteBuffered(batches[0]), errFull) && w.WriteBuffered(batches[0]) == nil {
			t.Errorf("limit %d: error did not stick", limit)
		}
		if err := w.Close(); err != nil || dst.closed != 1 {
			t.Errorf("limit %d: second Close %v, destination closed %d times", limit, err, dst.closed)
		}
	}
}

// TestEmptyFile closes a writer that was given nothing: a file without
// row groups, as pqarrow writes it.
func TestEmptyFile(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	props := testProps(memory.DefaultAllocator)
	flat := writeFlat(t, nil, sc, props, true)
	pq := writePqarrow(t, nil, sc, props, true)
	if !bytes.Equal(flat, pq) {
		t.Errorf("empty file differs from pqarrow's")
	}
}
