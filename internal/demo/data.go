// Package demo owns the demo data set: a small bucket of real CSV, JSON and
// Parquet files, compressed in the ways users meet, with marker files beside
// them, and the config that loads it. `make demo` and the end-to-end tests
// both use it, so the demo is always a tested path.
package demo

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"
)

// Object is one object of the demo bucket.
type Object struct {
	Key  string
	Data []byte
}

// Dataset is the demo bucket's content and what loading it must give.
type Dataset struct {
	Objects []Object
	// Rows is the row count each table must commit.
	Rows map[string]int64
	// Skipped is how many marker objects each table's listing holds.
	Skipped map[string]int
}

// Build generates the demo data set; the same seed gives the same bytes.
func Build(seed uint64, filesPerTable, rowsPerFile int) (Dataset, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	ds := Dataset{Rows: map[string]int64{}, Skipped: map[string]int{}}
	add := func(table, key string, data []byte, rows int) {
		ds.Objects = append(ds.Objects, Object{Key: key, Data: data})
		ds.Rows[table] += int64(rows)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range filesPerTable {
		data, err := gzipped(ordersCSV(rng, base, i*rowsPerFile, rowsPerFile))
		if err != nil {
			return ds, err
		}
		add("orders", fmt.Sprintf("orders/2024/%02d/orders-%04d.csv.gz", i%12+1, i), data, rowsPerFile)

		js, err := zstded(eventsJSONLines(rng, base, i*rowsPerFile, rowsPerFile))
		if err != nil {
			return ds, err
		}
		add("events", fmt.Sprintf("events/day=%02d/events-%04d.jsonl.zst", i%28+1, i), js, rowsPerFile)

		pq, err := productsParquet(rng, i*rowsPerFile, rowsPerFile)
		if err != nil {
			return ds, err
		}
		add("products", fmt.Sprintf("products/products-%04d.parquet", i), pq, rowsPerFile)
	}
	// Markers that Spark, Hadoop and S3 consoles leave beside data: listed,
	// skipped, never loaded or failed.
	for _, m := range []struct{ table, key string }{
		{"orders", "orders/_SUCCESS"},
		{"orders", "orders/2024/"},
		{"events", "events/part-0000.jsonl.zst.crc"},
		{"products", "products/_SUCCESS"},
	} {
		ds.Objects = append(ds.Objects, Object{Key: m.key})
		ds.Skipped[m.table]++
	}
	return ds, nil
}

var (
	cities   = []string{"Berlin", "Lisbon", "Zürich", "São Paulo", "New York, NY", `Quote "City"`}
	statuses = []string{"new", "paid", "shipped", "returned"}
)

func ordersCSV(rng *rand.Rand, base time.Time, first, n int) []byte {
	var b bytes.Buffer
	b.WriteString("order_id,customer,amount,quantity,city,ordered_at,paid\r\n")
	for i := range n {
		city := cities[rng.IntN(len(cities))]
		fmt.Fprintf(&b, "%d,cust-%05d,%.2f,%d,%s,%s,%t\r\n",
			first+i, rng.IntN(50000), rng.Float64()*1000, rng.IntN(20)+1, csvQuote(city),
			base.Add(time.Duration(first+i)*time.Minute).Format(time.RFC3339), rng.IntN(2) == 0)
	}
	return b.Bytes()
}

func csvQuote(s string) string {
	if !bytes.ContainsAny([]byte(s), ",\"\n") {
		return s
	}
	return `"` + string(bytes.ReplaceAll([]byte(s), []byte(`"`), []byte(`""`))) + `"`
}

func eventsJSONLines(rng *rand.Rand, base time.Time, first, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"event_id":%d,"kind":%q,"user":"u%d","value":%.3f,"at":%q}`+"\n",
			first+i, statuses[rng.IntN(len(statuses))], rng.IntN(1000), rng.Float64(),
			base.Add(time.Duration(first+i)*time.Second).Format(time.RFC3339))
	}
	return b.Bytes()
}

func productsParquet(rng *rand.Rand, first, n int) ([]byte, error) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "product_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "in_stock", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(first + i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("product %d", first+i))
		if i%10 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(rng.Float64() * 100)
		}
		b.Field(3).(*array.BooleanBuilder).Append(rng.IntN(3) > 0)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var out bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &out,
		parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(int64(n/2+1))),
		pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("writing demo parquet: %w", err)
	}
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("writing demo parquet: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("writing demo parquet: %w", err)
	}
	return out.Bytes(), nil
}

func gzipped(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func zstded(data []byte) ([]byte, error) {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil), nil
}

// Config is the load config of the demo bucket on an S3 endpoint. The
// credentials come from the environment, as they should in any config:
// S3LOAD_DEMO_KEY and S3LOAD_DEMO_SECRET.
func Config(endpoint, bucket, target string) string {
	return fmt.Sprintf(`# s3load demo: three tables from one bucket.
source:
  region: us-east-1
  bucket: %s
  endpoint: %s
  path_style: true
  access_key_id: ${S3LOAD_DEMO_KEY}
  secret_access_key: ${S3LOAD_DEMO_SECRET}
tables:
  - name: orders
    prefix: orders/
    glob: "**/*.csv.gz"
  - name: events
    prefix: events/
  - name: products
    prefix: products/
target: %s
`, bucket, endpoint, target)
}
