package lake

import (
	"encoding/json"
	"fmt"
	"testing"

	gojson "github.com/goccy/go-json"

	"github.com/s3load/s3load/messages"
)

// filesManifest10k is the files manifest of a load of 10,000 small files
// in 157 batch parts, as writeFilesManifest encodes it.
func filesManifest10k(tb testing.TB) []byte {
	tb.Helper()
	m := messages.Manifest{V: messages.Version, Table: "t", LoadID: "20261203T120000Z-abcdef", Rows: 1_400_000}
	for i := range 10_000 {
		part := fmt.Sprintf("data/20261203T120000Z-abcdef/batch-%032x.parquet", i/64)
		if i%64 == 0 {
			m.Parts = append(m.Parts, messages.ManifestPart{Path: part, Bytes: 86_000})
		}
		m.Files = append(m.Files, messages.ManifestFile{Source: messages.Source{Bucket: "bench", Key: fmt.Sprintf("reuse/part-%05d.csv", i),
			ETag: fmt.Sprintf("%032x", i*7919), Size: 11_000}, Path: part, Rows: 140})
	}
	data, err := gojson.Marshal(loadFiles{Manifest: m, TableSchema: make([]byte, 1200)})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// The files manifest is read before every repeated load's listing: go-json
// against encoding/json on the same bytes, and both read the same.
func BenchmarkFilesManifest(b *testing.B) {
	data := filesManifest10k(b)
	for _, c := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{{"encoding-json", json.Unmarshal}, {"go-json", gojson.Unmarshal}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var lf loadFiles
				if err := c.unmarshal(data, &lf); err != nil || len(lf.Files) != 10_000 {
					b.Fatalf("%d files, %v", len(lf.Files), err)
				}
			}
		})
	}
}

// go-json reads a files manifest exactly as encoding/json does.
func TestFilesManifestDecodersAgree(t *testing.T) {
	data := filesManifest10k(t)
	var a, b loadFiles
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if err := gojson.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) || len(b.Files) != 10_000 || len(b.TableSchema) != 1200 {
		t.Fatal("go-json and encoding/json read the files manifest differently")
	}
}

// BenchmarkEncodeMask is a load's position delete file: 100 kept parts of
// 64 files, each with one changed file's rows (140) masked, as a repeated
// load with 1% of 10,000 files changed writes in its commit.
func BenchmarkEncodeMask(b *testing.B) {
	need := make([]partMask, 100)
	for i := range need {
		need[i].part = fmt.Sprintf("file:///var/lib/s3load/lake/default/t/data/20261203T163909Z-08f24e/batch-89d02dd264db403b056e55dec64%05d.parquet", i)
		for r := range int64(140) {
			need[i].positions = append(need[i].positions, int64(i%64)*140+r)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeMasks(need); err != nil {
			b.Fatal(err)
		}
	}
}
