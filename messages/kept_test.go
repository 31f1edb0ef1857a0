package messages

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Loaded records grouped into kept records and read back are the same
// records, each naming its kept record; tokens of kept records never look
// like a file's, nor hold characters NATS treats specially.
func TestKeepRecordsRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var recs []FileRecord
	for i, part := range []string{"data/a.parquet", "data/b.parquet", "data/a.parquet"} {
		recs = append(recs, FileRecord{LoadID: "l", Table: "t", Source: Source{Bucket: "b", Key: "k" + string(rune('0'+i)), ETag: "e", Size: 9},
			State: StateLoaded, Part: part, PartFiles: 2, Rows: int64(10 + i), Bytes: 500, Updated: now})
	}
	recs[1].PartFiles = 1
	kept := KeepRecords(recs)
	if len(kept) != 2 || len(kept[0].Files) != 2 || len(kept[1].Files) != 1 {
		t.Fatalf("KeepRecords made %+v, want a record for each of the 2 parts", kept)
	}
	var back []FileRecord
	for _, k := range kept {
		data, err := Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		k, err = Unmarshal[KeptRecord](data)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range k.Records() {
			if r.Kept != k.Token() {
				t.Errorf("%s names kept record %q, want %q", r.Source, r.Kept, k.Token())
			}
			r.Kept, r.V = "", 0
			back = append(back, r)
		}
	}
	want := []FileRecord{recs[0], recs[2], recs[1]}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("read back:\n%+v\nwant\n%+v", back, want)
	}
	tok := kept[0].Token()
	if !IsKeptToken(tok) || IsKeptToken(recs[0].Token()) || strings.ContainsAny(tok, ".*> /") || tok == kept[1].Token() {
		t.Errorf("kept token %q: distinct from file tokens and other parts', NATS-safe", tok)
	}
}
