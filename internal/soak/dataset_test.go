package soak

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/testenv"
)

// The data set: three tables of a few hundred files, every row carrying an
// id unique across the whole data set and the key of its file, so the
// bookkeeping can tell each row's file and catch a row lost, loaded twice,
// or of a version the load never listed.
//
//	orders  CSV, plain and gzip; small files (batched) and a few of
//	        1-4 MiB (over split.range_bytes: loaded by ranges, or whole)
//	events  JSON lines, plain and gzip, small and big likewise
//	clicks  many tiny gzip CSV files with ';' as the delimiter
//
// Each table also holds a _SUCCESS marker, which the load skips.

// tableSpec is one table: where its files go and how they are written.
type tableSpec struct {
	name, prefix string
	// config is the table's line in the load config.
	config string
	// small and big give the row counts of new files; big is nil for a
	// table of small files only.
	small, big func(*rand.Rand) int
	// newKey names the n-th file of the table.
	newKey func(rng *rand.Rand, n int, big bool) string
	// body writes a file's rows.
	body func(key string, first int64, rows int) []byte
}

func between(lo, hi int) func(*rand.Rand) int {
	return func(rng *rand.Rand) int { return lo + rng.IntN(hi-lo+1) }
}

var tables = []tableSpec{
	{
		name: "orders", prefix: "orders/", config: "{ name: orders, prefix: orders/ }",
		small: between(200, 12_000), big: between(22_000, 60_000), // ~70 B a row: to 0.8 MiB, 1.5-4 MiB
		newKey: func(rng *rand.Rand, n int, big bool) string {
			ext := ".csv"
			if !big && rng.IntN(2) == 0 {
				ext = ".csv.gz"
			}
			return fmt.Sprintf("orders/2024/%02d/o-%04d%s", 1+n%12, n, ext)
		},
		body: func(key string, first int64, rows int) []byte {
			var b bytes.Buffer
			b.WriteString("id,src,amount,qty,ordered_at,paid\n")
			for i := range int64(rows) {
				id := first + i
				fmt.Fprintf(&b, "%d,%s,%d.%02d,%d,2024-%02d-%02dT%02d:%02d:%02dZ,%t\n",
					id, key, id%9973, id%100, 1+id%17, 1+id%12, 1+id%28, id%24, id%60, (id/7)%60, id%3 == 0)
			}
			return b.Bytes()
		},
	},
	{
		name: "events", prefix: "events/", config: "{ name: events, prefix: events/ }",
		small: between(200, 9_000), big: between(16_000, 40_000), // ~95 B a row: to 0.8 MiB, 1.5-3.6 MiB
		newKey: func(rng *rand.Rand, n int, big bool) string {
			ext := ".jsonl"
			if !big && rng.IntN(5) < 2 {
				ext = ".jsonl.gz"
			}
			return fmt.Sprintf("events/day=%02d/e-%04d%s", 1+n%28, n, ext)
		},
		body: func(key string, first int64, rows int) []byte {
			var b bytes.Buffer
			kinds := [...]string{"view", "click", "buy", "leave"}
			for i := range int64(rows) {
				id := first + i
				fmt.Fprintf(&b, `{"id":%d,"src":%q,"kind":%q,"value":%d.25,"ok":%t}`+"\n",
					id, key, kinds[id%4], id%10007, id%2 == 0)
			}
			return b.Bytes()
		},
	},
	{
		name: "clicks", prefix: "clicks/", config: `{ name: clicks, prefix: clicks/, csv: { delimiter: ";" } }`,
		small: between(5, 300),
		newKey: func(_ *rand.Rand, n int, _ bool) string {
			return fmt.Sprintf("clicks/%c/c-%04d.csv.gz", 'a'+n%6, n)
		},
		body: func(key string, first int64, rows int) []byte {
			var b bytes.Buffer
			b.WriteString("id;src;page;ms\n")
			for i := range int64(rows) {
				id := first + i
				fmt.Fprintf(&b, "%d;%s;/p/%d;%d\n", id, key, id%541, id%3001)
			}
			return b.Bytes()
		},
	},
}

// initialFiles is how many small and big files each table starts with.
var initialFiles = map[string][2]int{"orders": {160, 14}, "events": {130, 10}, "clicks": {160, 0}}

// object is one data file as the bucket holds it: its rows have the ids
// first .. first+rows-1.
type object struct {
	table, key string
	first      int64
	rows       int
	big        bool
	etag       string
	size       int64
}

// dataset is the bucket's data files, as the soak put them.
type dataset struct {
	s3     *testenv.S3Server
	bucket string
	// objects by key; the source of the next load is a copy of it.
	objects map[string]object
	nextID  int64
	// files counts keys made per table.
	files map[string]int
}

// newDataset generates the data set and puts it in bucket.
func newDataset(t *testing.T, rng *rand.Rand, s3 *testenv.S3Server, bucket string) *dataset {
	t.Helper()
	d := &dataset{s3: s3, bucket: bucket, objects: map[string]object{}, files: map[string]int{}}
	for _, ts := range tables {
		n := initialFiles[ts.name]
		for range n[0] {
			d.write(t, rng, ts, d.newKey(rng, ts, false), false)
		}
		for range n[1] {
			d.write(t, rng, ts, d.newKey(rng, ts, true), true)
		}
		s3.Put(t, bucket, ts.prefix+"_SUCCESS", nil) // a marker: skipped
	}
	return d
}

func (d *dataset) newKey(rng *rand.Rand, ts tableSpec, big bool) string {
	d.files[ts.name]++
	return ts.newKey(rng, d.files[ts.name], big)
}

// write puts a new version of key, with fresh ids.
func (d *dataset) write(t *testing.T, rng *rand.Rand, ts tableSpec, key string, big bool) {
	t.Helper()
	rows := ts.small(rng)
	if big {
		rows = ts.big(rng)
	}
	o := object{table: ts.name, key: key, first: d.nextID, rows: rows, big: big}
	d.nextID += int64(rows)
	data := ts.body(key, o.first, rows)
	if strings.HasSuffix(key, ".gz") {
		data = gzipped(t, data)
	}
	src := d.s3.Put(t, d.bucket, key, data)
	o.etag, o.size = src.ETag, src.Size
	d.objects[key] = o
}

// change rewrites a few files (new rows, new ids), adds one and deletes
// one, as a bucket changes between two loads; it says what it did.
func (d *dataset) change(t *testing.T, rng *rand.Rand) string {
	t.Helper()
	keys := d.keys()
	var did []string
	for range 3 + rng.IntN(3) {
		o := d.objects[keys[rng.IntN(len(keys))]]
		d.write(t, rng, tableNamed(o.table), o.key, o.big)
		did = append(did, "rewrote "+o.key)
	}
	ts := tables[rng.IntN(len(tables))]
	key := d.newKey(rng, ts, false)
	d.write(t, rng, ts, key, false)
	did = append(did, "added "+key)
	gone := keys[rng.IntN(len(keys))]
	d.s3.Delete(t, d.bucket, gone)
	delete(d.objects, gone)
	did = append(did, "deleted "+gone)
	return strings.Join(did, ", ")
}

// keys lists the data files in order, so a seed picks the same ones.
func (d *dataset) keys() []string {
	keys := make([]string, 0, len(d.objects))
	for k := range d.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// source is the bucket as the next load lists it: per table, its files.
func (d *dataset) source() map[string]map[string]object {
	out := map[string]map[string]object{}
	for _, ts := range tables {
		out[ts.name] = map[string]object{}
	}
	for k, o := range d.objects {
		out[o.table][k] = o
	}
	return out
}

// size sums the data files' bytes and rows.
func (d *dataset) size() (bytes int64, rows int64) {
	for _, o := range d.objects {
		bytes += o.size
		rows += int64(o.rows)
	}
	return bytes, rows
}

func tableNamed(name string) tableSpec {
	for _, ts := range tables {
		if ts.name == name {
			return ts
		}
	}
	panic("no table " + name) // the data set names only its own tables
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
