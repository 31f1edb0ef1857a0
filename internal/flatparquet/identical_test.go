package flatparquet

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestIdenticalFiles checks that, where nothing differs by design, the
// file is pqarrow's byte for byte: columns that are not nullable have no
// definition levels (whose runs this package chooses differently), so
// their pages (PLAIN, DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT values),
// page headers, chunk metadata and footer must all be the same.
func TestIdenticalFiles(t *testing.T) {
	for _, dt := range testTypes {
		for _, enc := range encodings(dt) {
			for _, l := range layouts {
				t.Run(fmt.Sprintf("%s/%s/%s", dt, enc, l.name), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
					defer mem.AssertSize(t, 0)
					sc := arrow.NewSchema([]arrow.Field{{Name: "c", Type: dt}}, nil)
					batches := makeBatches(mem, sc, l, noNulls)
					defer release(batches)
					more := append(l.props, parquet.WithEncodingFor("c", enc))
					flat := writeFlat(t, batches, sc, testProps(mem, more...), true)
					pq := writePqarrow(t, batches, sc, testProps(memory.DefaultAllocator, more...), true)
					if !bytes.Equal(flat, pq) {
						t.Errorf("%d bytes, pqarrow's %d: they differ from byte %d", len(flat), len(pq), firstDiff(flat, pq))
					}
				})
			}
		}
	}
}

// TestIdenticalNullablePages checks that a nullable column's pages are the
// same size as pqarrow's when they hold no nulls or only nulls: the
// definition levels are then one RLE run in both.
func TestIdenticalNullablePages(t *testing.T) {
	for _, nl := range []nulls{noNulls, allNulls} {
		for _, dt := range []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.FixedWidthTypes.Boolean} {
			t.Run(fmt.Sprintf("%s/%s", dt, nl), func(t *testing.T) {
				sc := arrow.NewSchema([]arrow.Field{{Name: "c", Type: dt, Nullable: true}}, nil)
				l := layout{batches: []int{3000, 5000}}
				batches := makeBatches(memory.DefaultAllocator, sc, l, nl)
				defer release(batches)
				props := testProps(memory.DefaultAllocator, parquet.WithCompression(compress.Codecs.Uncompressed))
				flat := writeFlat(t, batches, sc, props, true)
				pq := writePqarrow(t, batches, sc, props, true)
				if !bytes.Equal(flat, pq) {
					t.Errorf("%d bytes, pqarrow's %d: they differ from byte %d", len(flat), len(pq), firstDiff(flat, pq))
				}
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestIdenticalAppendedMetadata checks a footer entry added before Close
// (s3load lists a part's files so) lands as pqarrow's does, byte for byte.
func TestIdenticalAppendedMetadata(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "c", Type: arrow.PrimitiveTypes.Int64}}, nil)
	batches := makeBatches(memory.DefaultAllocator, sc, layout{batches: []int{100}}, noNulls)
	defer release(batches)
	props := testProps(memory.DefaultAllocator)
	write := func(w interface {
		WriteBuffered(arrow.RecordBatch) error
		AppendKeyValueMetadata(key, value string) error
		Close() error
	}) {
		t.Helper()
		for _, b := range batches {
			if err := w.WriteBuffered(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.AppendKeyValueMetadata("s3load.files", `["a","b"]`); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var flat, pq bytes.Buffer
	fw, err := NewWriter(sc, &flat, props, true)
	if err != nil {
		t.Fatal(err)
	}
	write(fw)
	if err := fw.AppendKeyValueMetadata("late", "x"); err == nil {
		t.Error("AppendKeyValueMetadata after Close did not fail")
	}
	pw, err := pqarrow.NewFileWriter(sc, &pq, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	write(pw)
	if got := readMeta(t, flat.Bytes()).KeyValueMetadata().FindValue("s3load.files"); got == nil || *got != `["a","b"]` {
		t.Errorf("the appended entry reads back as %v", got)
	}
	if !bytes.Equal(flat.Bytes(), pq.Bytes()) {
		t.Errorf("%d bytes, pqarrow's %d: they differ from byte %d", flat.Len(), pq.Len(), firstDiff(flat.Bytes(), pq.Bytes()))
	}
}
