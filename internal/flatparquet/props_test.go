package flatparquet

import (
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/s3load/s3load/internal/demo"
)

// TestHonouredProps writes with properties that change the file and
// compares it with pqarrow's: statistics off for all or one column, a
// statistics size limit that drops long values, Parquet version 1.0, other
// codecs, root name and created_by.
func TestHonouredProps(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.LargeBinary},
		{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "t", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true},
	}, nil)
	cases := map[string][]parquet.WriterProperty{
		"statistics off":          {parquet.WithStats(false)},
		"statistics off for s":    {parquet.WithStatsFor("s", false)},
		"statistics of 5 bytes":   {parquet.WithMaxStatsSize(5)},
		"version 1.0":             {parquet.WithVersion(parquet.V1_0)},
		"version 2.4":             {parquet.WithVersion(parquet.V2_4)},
		"snappy":                  {parquet.WithCompression(compress.Codecs.Snappy)},
		"gzip for one column":     {parquet.WithCompressionFor("s", compress.Codecs.Gzip)},
		"lz4 raw":                 {parquet.WithCompression(compress.Codecs.Lz4Raw)},
		"zstd level 1":            {parquet.WithCompressionLevel(1)},
		"root and created_by":     {parquet.WithRootName("root"), parquet.WithCreatedBy("someone")},
		"delta and split":         {parquet.WithEncodingFor("i", parquet.Encodings.DeltaBinaryPacked), parquet.WithEncodingFor("d", parquet.Encodings.ByteStreamSplit)},
		"dictionary off for each": {parquet.WithDictionaryDefault(true), parquet.WithDictionaryFor("i", false), parquet.WithDictionaryFor("s", false), parquet.WithDictionaryFor("b", false), parquet.WithDictionaryFor("d", false), parquet.WithDictionaryFor("t", false)},
	}
	for name, more := range cases {
		t.Run(name, func(t *testing.T) {
			l := layout{batches: []int{700, 1300}, props: []parquet.WriterProperty{parquet.WithMaxRowGroupLength(1500), parquet.WithDataPageSize(4096)}}
			checkWrite(t, sc, l, noNulls, append(l.props, more...))
		})
	}
}

// TestFileMetadataBeforeClose checks FileMetadata on an open writer: the
// row groups closed so far, as pqarrow's.
func TestFileMetadataBeforeClose(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	batches := makeBatches(memory.DefaultAllocator, sc, layout{batches: []int{100, 100, 100}}, noNulls)
	defer release(batches)
	w, err := NewWriter(sc, &counter{}, testProps(memory.DefaultAllocator, parquet.WithMaxRowGroupLength(150)), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := w.WriteBuffered(b); err != nil {
			t.Fatal(err)
		}
	}
	md, err := w.FileMetadata()
	if err != nil {
		t.Fatal(err)
	}
	if md.NumRowGroups() != 2 || md.RowGroup(0).NumRows() != 150 {
		t.Errorf("%d row groups, the first of %d rows", md.NumRowGroups(), md.RowGroup(0).NumRows())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if md, err = w.FileMetadata(); err != nil || md.NumRows != 300 || md.NumRowGroups() != 2 {
		t.Errorf("closed: %v rows, %v", md, err)
	}
}

// TestSteadyAllocations checks that once its buffers have grown, the
// writer allocates no large buffers: pages and column chunks reuse theirs.
func TestSteadyAllocations(t *testing.T) {
	batches := demo.WideBatches(memory.DefaultAllocator, 20<<16)
	defer release(batches)
	sc := batches[0].Schema()
	props := parquet.NewWriterProperties(append(wideOptions(sc), parquet.WithMaxRowGroupLength(2<<16))...)
	w, err := NewWriter(sc, &counter{}, props, true)
	if err != nil {
		t.Fatal(err)
	}
	// the first row groups grow the buffers
	for _, b := range batches[:8] {
		if err := w.WriteBuffered(b); err != nil {
			t.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, b := range batches[8:] {
		if err := w.WriteBuffered(b); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	perBatch := (after.TotalAlloc - before.TotalAlloc) / uint64(len(batches[8:]))
	t.Logf("%d bytes allocated a batch of %d rows", perBatch, batches[0].NumRows())
	if perBatch > 64<<10 {
		t.Errorf("%d bytes allocated a batch of %d rows", perBatch, batches[0].NumRows())
	}
}
