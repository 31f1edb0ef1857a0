package coordinator

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/s3load/s3load/messages"
)

// BenchmarkSummarize is the report of a table of 10,000 loaded files, their
// records in the store's order (not by key), as every commit makes it.
func BenchmarkSummarize(b *testing.B) {
	files := make([]messages.FileRecord, 10_000)
	for i := range files {
		files[i] = messages.FileRecord{V: messages.Version, LoadID: "20261203T163909Z-08f24e", Table: "t",
			Source: messages.Source{Bucket: "bench", Key: fmt.Sprintf("reuse/part-%05d.csv", i), ETag: `"0123456789abcdef0123456789abcdef"`, Size: 11_000},
			State:  messages.StateLoaded, Part: fmt.Sprintf("data/20261203T163909Z-08f24e/batch-%032x.parquet", i/64), PartFiles: 64, Rows: 140, Bytes: 74_000}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	work := make([]messages.FileRecord, len(files))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, files)
		if r := summarize("t", messages.TableRecord{Files: len(files)}, work); r.Loaded != len(files) {
			b.Fatalf("loaded %d", r.Loaded)
		}
	}
}
