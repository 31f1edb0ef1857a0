package lake

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
)

// maskedNow counts a table's masked rows by data file from both kinds of
// position delete file: one of a single part (s3load's older masks, and
// other writers'), counted from its metadata, and a load's one file of
// many parts, counted from its rows.
func TestMaskedNowCountsBothKinds(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, need []partMask, lo, hi string) iceberg.DataFile {
		t.Helper()
		data, err := encodeMasks(need)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var rows int64
		for _, m := range need {
			rows += int64(len(m.positions))
		}
		b, err := iceberg.NewDataFileBuilder(*iceberg.UnpartitionedSpec, iceberg.EntryContentPosDeletes, path, iceberg.ParquetFile,
			nil, nil, nil, rows, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		b.LowerBoundValues(map[int][]byte{posDeletePathID: []byte(lo)}).UpperBoundValues(map[int][]byte{posDeletePathID: []byte(hi)})
		return b.Build()
	}
	one := write("one.parquet", []partMask{{part: "p0", positions: []int64{1, 2, 3, 4}}}, "p0", "p0")
	many := write("many.parquet", []partMask{
		{part: "p1", positions: []int64{0, 5}},
		{part: "p2", positions: []int64{1, 2, 9}},
	}, "p1", "p2")
	if target, ok := deleteTarget(one); !ok || target != "p0" {
		t.Fatalf("deleteTarget of a single part's file: %q, %v", target, ok)
	}
	if _, ok := deleteTarget(many); ok {
		t.Fatal("deleteTarget found one target in a file of two parts")
	}
	// Metadata only: remove the single part's file, it must not be read.
	if err := os.Remove(one.FilePath()); err != nil {
		t.Fatal(err)
	}
	have, err := maskedNow(context.Background(), icebergio.LocalFS{}, []iceberg.DataFile{one, many})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"p0": 4, "p1": 2, "p2": 3}; !maps.Equal(have, want) {
		t.Errorf("masked rows by part: %v, want %v", have, want)
	}
}
