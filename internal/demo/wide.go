package demo

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The wide shape is the benchmarks' data: 7 columns (int, string, float,
// int, string, timestamp, bool), about 72 bytes a row as CSV. Row i is the
// same in every format, so outputs can be compared.

var wideBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// WideSchema is the wide shape as Arrow.
func WideSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "customer", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "quantity", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "city", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ordered_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "paid", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
}

// WideCSV is rows first..first+n of the wide shape as CSV with a header.
func WideCSV(first, n int) []byte {
	b := make([]byte, 0, n*73+64)
	b = append(b, "id,customer,amount,quantity,city,ordered_at,paid\n"...)
	for i := first; i < first+n; i++ {
		b = fmt.Appendf(b, "%d,customer-%07d,%d.%02d,%d,city number %d,%s,%t\n",
			i, i*7919%1000000, i%100000, i%100, i%50, i%1000,
			wideBase.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i%3 == 0)
	}
	return b
}

// WideJSONLinesBytes is the size of a JSON lines row of the wide shape, about.
const WideJSONLinesBytes = 130

// WideJSONLines is rows first..first+n of the wide shape as JSON lines.
func WideJSONLines(first, n int) []byte {
	b := make([]byte, 0, n*WideJSONLinesBytes+64)
	for i := first; i < first+n; i++ {
		b = fmt.Appendf(b, `{"id":%d,"customer":"customer-%07d","amount":%d.%02d,"quantity":%d,"city":"city number %d","ordered_at":%q,"paid":%t}`+"\n",
			i, i*7919%1000000, i%100000, i%100, i%50, i%1000, wideBase.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i%3 == 0)
	}
	return b
}

// AppendWide appends rows first..first+n to a builder of WideSchema.
func AppendWide(bld *array.RecordBuilder, first, n int) {
	base := wideBase.UnixMicro()
	for i := first; i < first+n; i++ {
		bld.Field(0).(*array.Int64Builder).Append(int64(i))
		bld.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("customer-%07d", i*7919%1000000))
		bld.Field(2).(*array.Float64Builder).Append(float64(i%100000) + float64(i%100)/100)
		bld.Field(3).(*array.Int64Builder).Append(int64(i % 50))
		bld.Field(4).(*array.StringBuilder).Append(fmt.Sprintf("city number %d", i%1000))
		bld.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(base + int64(i)*1e6))
		bld.Field(6).(*array.BooleanBuilder).Append(i%3 == 0)
	}
}

// WideBatches is rows 0..rows of the wide shape as record batches of 64Ki
// rows allocated from mem: the input of the Parquet writer benchmarks.
// The caller releases them.
func WideBatches(mem memory.Allocator, rows int) []arrow.RecordBatch {
	schema := WideSchema()
	var out []arrow.RecordBatch
	for first := 0; first < rows; first += 1 << 16 {
		n := min(1<<16, rows-first)
		bld := array.NewRecordBuilder(mem, schema)
		AppendWide(bld, first, n)
		out = append(out, bld.NewRecordBatch())
		bld.Release()
	}
	return out
}
