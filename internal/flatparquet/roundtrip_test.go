package flatparquet

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// layout is how a test's rows come: in which batches, into which row
// groups and pages.
type layout struct {
	name    string
	batches []int // rows of each batch
	slice   bool  // batches are slices of larger arrays, at odd offsets
	props   []parquet.WriterProperty
}

var layouts = []layout{
	{name: "one", batches: []int{1000}, props: []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Uncompressed)}},
	{name: "empty", batches: []int{0}},
	// row groups of 1000, 1000 and 610 rows
	{name: "rowgroups", batches: []int{777, 0, 1500, 333}, props: []parquet.WriterProperty{parquet.WithMaxRowGroupLength(1000)}},
	{name: "pages", batches: []int{2000, 1001}, slice: true, props: []parquet.WriterProperty{
		parquet.WithDataPageSize(256), parquet.WithBatchSize(64), parquet.WithMaxRowGroupLength(2500)}},
}

// encodings are those a column of dt can be asked for.
func encodings(dt arrow.DataType) []parquet.Encoding {
	k, _ := kindOf(dt)
	switch k.physical() {
	case parquet.Types.Int32, parquet.Types.Int64:
		return []parquet.Encoding{parquet.Encodings.Plain, parquet.Encodings.DeltaBinaryPacked}
	case parquet.Types.Float, parquet.Types.Double:
		return []parquet.Encoding{parquet.Encodings.Plain, parquet.Encodings.ByteStreamSplit}
	}
	return []parquet.Encoding{parquet.Encodings.Plain}
}

// testProps are s3load's settings (zstd 3, no dictionaries) with more.
func testProps(mem memory.Allocator, more ...parquet.WriterProperty) *parquet.WriterProperties {
	props := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(3),
		parquet.WithDictionaryDefault(false),
		parquet.WithCreatedBy("flatparquet test"),
	}
	return parquet.NewWriterProperties(append(props, more...)...)
}

// makeBatches builds l's batches of schema sc.
func makeBatches(mem memory.Allocator, sc *arrow.Schema, l layout, nl nulls) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for i, n := range l.batches {
		cols := make([]arrow.Array, sc.NumFields())
		for j, f := range sc.Fields() {
			if !l.slice {
				cols[j] = genArray(mem, f.Type, n, nl, uint64(i*100+j))
				continue
			}
			whole := genArray(mem, f.Type, n+50, nl, uint64(i*100+j))
			cols[j] = array.NewSlice(whole, 13+int64(i), 13+int64(i)+int64(n))
			whole.Release()
		}
		out = append(out, array.NewRecordBatch(sc, cols, int64(n)))
		for _, c := range cols {
			c.Release()
		}
	}
	return out
}

func release(batches []arrow.RecordBatch) {
	for _, b := range batches {
		b.Release()
	}
}

// TestRoundTrip writes every supported type, nullable or not, with and
// without nulls, in every layout and encoding, reads it back, and checks
// the file against pqarrow's of the same batches.
func TestRoundTrip(t *testing.T) {
	for _, dt := range testTypes {
		for _, nullable := range []bool{false, true} {
			nls := []nulls{noNulls}
			if nullable {
				nls = []nulls{noNulls, someNulls, allNulls}
			}
			for _, nl := range nls {
				for _, l := range layouts {
					for _, enc := range encodings(dt) {
						name := fmt.Sprintf("%s/nullable=%v/%s/%s/%s", dt, nullable, nl, l.name, enc)
						t.Run(name, func(t *testing.T) {
							sc := arrow.NewSchema([]arrow.Field{{Name: "c", Type: dt, Nullable: nullable}}, nil)
							more := append(l.props, parquet.WithEncodingFor("c", enc))
							checkWrite(t, sc, l, nl, more)
						})
					}
				}
			}
		}
	}
}

// checkWrite writes l's batches of sc with props more, reads them back
// and compares the file with pqarrow's.
func checkWrite(t *testing.T, sc *arrow.Schema, l layout, nl nulls, more []parquet.WriterProperty) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	batches := makeBatches(mem, sc, l, nl)
	defer release(batches)
	flat := writeFlat(t, batches, sc, testProps(mem, more...), true)
	checkRoundTrip(t, flat, sc, batches)
	pq := writePqarrow(t, batches, sc, testProps(memory.DefaultAllocator, more...), true)
	compareFiles(t, flat, pq)
}

// TestWideSchema writes all types side by side, the ARROW:schema with them.
func TestWideSchema(t *testing.T) {
	var fields []arrow.Field
	for i, dt := range testTypes {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("c%d", i), Type: dt, Nullable: i%2 == 0,
			Metadata: arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{fmt.Sprint(100 + i)})})
	}
	sc := arrow.NewSchema(fields, &arrow.Metadata{})
	md := arrow.NewMetadata([]string{"origin", "note"}, []string{"test", "ü"})
	scMeta := arrow.NewSchema(fields, &md)
	for _, s := range []*arrow.Schema{sc, scMeta} {
		for _, l := range layouts {
			t.Run(l.name, func(t *testing.T) {
				nl := someNulls
				for _, f := range s.Fields() {
					if !f.Nullable {
						nl = noNulls // genArray's nulls are per batch: keep required columns whole
					}
				}
				checkWrite(t, s, l, nl, l.props)
			})
		}
	}
}

// TestStoreSchemaOff leaves the Arrow schema out, as pqarrow does without
// WithStoreSchema.
func TestStoreSchemaOff(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, &md)
	batches := makeBatches(mem, sc, layouts[0], someNulls)
	defer release(batches)
	flat := writeFlat(t, batches, sc, testProps(mem), false)
	pq := writePqarrow(t, batches, sc, testProps(memory.DefaultAllocator), false)
	compareFiles(t, flat, pq)
	if v := readMeta(t, flat).KeyValueMetadata().FindValue(arrowSchemaKey); v != nil {
		t.Errorf("ARROW:schema stored")
	}
}
