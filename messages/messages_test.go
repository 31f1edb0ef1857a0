package messages

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	src := Source{Bucket: "raw", Key: "orders/2024/a b.csv.gz", ETag: "9b2cf535f27731c974343645a3985328", Size: 1234}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	check := func(t *testing.T, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip changed the message:\n got %+v\nwant %+v", got, want)
		}
	}
	t.Run("task", func(t *testing.T) {
		in := Task{V: Version, LoadID: "l1", Table: "orders", Files: []TaskFile{{Source: src, Revision: 7}}, Reissued: true}
		data, err := Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Unmarshal[Task](data)
		if err != nil {
			t.Fatal(err)
		}
		check(t, out, in)
	})
	t.Run("file record", func(t *testing.T) {
		in := FileRecord{V: Version, LoadID: "l1", Table: "orders", Source: src, State: StateFailed, Error: "bad", Attempts: 3, FailingSince: now.Add(-time.Minute), Updated: now}
		data, err := Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Unmarshal[FileRecord](data)
		if err != nil {
			t.Fatal(err)
		}
		check(t, out, in)
	})
	t.Run("worker and lease", func(t *testing.T) {
		spec := JobSpec{"source.bucket": "raw", "tables[0].prefix": "orders/"}
		w := WorkerRecord{V: Version, ID: "h-1", Job: spec.ID(), Slots: 2, Started: now, Updated: now, Spec: spec,
			Holding: []Holding{{LoadID: "l1", Table: "orders", Token: src.Token(), Key: src.Key, Bytes: 10, Rows: 2, Since: now}}}
		data, err := Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		gotW, err := Unmarshal[WorkerRecord](data)
		if err != nil {
			t.Fatal(err)
		}
		check(t, gotW, w)
		l := LeaseRecord{V: Version, Job: spec.ID(), Holder: "c-1", Acquired: now, Renewed: now, LoadID: "l1", Spec: spec}
		if data, err = Marshal(l); err != nil {
			t.Fatal(err)
		}
		gotL, err := Unmarshal[LeaseRecord](data)
		if err != nil {
			t.Fatal(err)
		}
		check(t, gotL, l)
	})
	t.Run("manifest", func(t *testing.T) {
		in := Manifest{V: Version, Table: "orders", LoadID: "l1", CommittedAt: now, Rows: 10,
			Schema: []Field{{Name: "id", Type: "int64", Nullable: true}},
			Parts:  []ManifestPart{{Path: "part-x.parquet", Rows: 10, Bytes: 99}},
			Files:  []ManifestFile{{Path: "part-x.parquet", Rows: 10, Source: src}},
			Failed: []ManifestFailure{{Source: src, State: StateChanged, Error: "changed", Attempts: 1}}}
		data, err := Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"table"`, `"load_id"`, `"committed_at"`, `"rows"`, `"schema"`, `"parts"`, `"files"`, `"failed"`, `"path"`, `"etag"`, `"attempts"`} {
			if !strings.Contains(string(data), key) {
				t.Errorf("manifest JSON lacks %s: %s", key, data)
			}
		}
		out, err := Unmarshal[Manifest](data)
		if err != nil {
			t.Fatal(err)
		}
		check(t, out, in)
	})
}

func TestUnmarshalRejectsOtherVersions(t *testing.T) {
	for _, doc := range []string{`{"v":1,"load_id":"x"}`, `{"v":3,"load_id":"x"}`, `{"load_id":"x"}`} {
		if _, err := Unmarshal[Task]([]byte(doc)); !errors.Is(err, ErrVersion) {
			t.Errorf("Unmarshal(%s) = %v, want ErrVersion", doc, err)
		}
	}
}

func TestTokensAreSafeAndDistinct(t *testing.T) {
	a := Source{Bucket: "b", Key: "a.b/c*>d e", ETag: "1"}
	b := Source{Bucket: "b", Key: "a.b/c*>d e", ETag: "2"}
	if a.Token() != b.Token() {
		t.Error("a key's token must not depend on its ETag")
	}
	if a.Identity() == b.Identity() {
		t.Error("a new ETag must give a new identity")
	}
	if DedupID("l1", "t", a) == DedupID("l2", "t", a) {
		t.Error("dedup IDs must differ between loads")
	}
	if DedupID("l1", "t1", a) == DedupID("l1", "t2", a) {
		t.Error("dedup IDs must differ between tables: one object under two tables' prefixes is two tasks")
	}
	for _, tok := range []string{a.Token(), a.Identity()} {
		if strings.ContainsAny(tok, ".*> /") {
			t.Errorf("token %q holds a character NATS treats specially", tok)
		}
	}
	// Length-prefixed hashing: moving a boundary between parts changes the hash.
	if (Source{Bucket: "ab", Key: "c"}).Token() == (Source{Bucket: "a", Key: "bc"}).Token() {
		t.Error("bucket/key boundary is ambiguous")
	}
}

func TestTaskAndPartNames(t *testing.T) {
	a := Source{Bucket: "b", Key: "k/a", ETag: "1"}
	b := Source{Bucket: "b", Key: "k/b", ETag: "1"}
	if TaskID("l", "t", []TaskFile{{Source: a}}) != DedupID("l", "t", a) {
		t.Error("a one-file task's ID is not the file's DedupID")
	}
	ab := TaskID("l", "t", []TaskFile{{Source: a}, {Source: b}})
	if ab == TaskID("l", "t", []TaskFile{{Source: a}}) || ab != TaskID("l", "t", []TaskFile{{Source: a}, {Source: b}}) ||
		ab == TaskID("l2", "t", []TaskFile{{Source: a}, {Source: b}}) || ab == TaskID("l", "t2", []TaskFile{{Source: a}, {Source: b}}) {
		t.Error("batch task IDs are not one per (load, table, files)")
	}
	if BatchPartName([]Source{a, b}) != BatchPartName([]Source{a, b}) || BatchPartName([]Source{a, b}) == BatchPartName([]Source{a}) {
		t.Error("batch part names are not one per set of files")
	}
	b2 := b
	b2.ETag = "2"
	if PartName(b, nil) == PartName(b2, nil) || !strings.HasPrefix(PartName(b, nil), "part-") || !strings.HasSuffix(PartName(b, nil), ".parquet") {
		t.Error("part names are not one per identity")
	}
}

func TestRangeNames(t *testing.T) {
	src := Source{Bucket: "b", Key: "big.csv", ETag: "1", Size: 100}
	r0, r1 := &Range{Index: 0, Count: 2, End: 50}, &Range{Index: 1, Count: 2, Start: 50, End: 100}
	if RecordToken(src, nil) != src.Token() || RecordToken(src, r0) == RecordToken(src, r1) || RecordToken(src, r0) == src.Token() {
		t.Error("record tokens are not one per range")
	}
	if PartName(src, r0) == PartName(src, r1) || PartName(src, r0) == PartName(src, nil) {
		t.Error("part names are not one per range")
	}
	if TaskID("l", "t", []TaskFile{{Source: src, Range: r0}}) == TaskID("l", "t", []TaskFile{{Source: src, Range: r1}}) ||
		TaskID("l", "t", []TaskFile{{Source: src, Range: r0}}) == TaskID("l", "t", []TaskFile{{Source: src}}) {
		t.Error("task IDs are not one per range")
	}
}

func TestJobSpecDiff(t *testing.T) {
	coord := JobSpec{"source.bucket": "raw", "tables[0].prefix": "orders/", "tables[0].csv.delimiter": ","}
	work := JobSpec{"source.bucket": "raw", "tables[0].prefix": "order/", "tables[0].glob": "*.csv", "tables[0].csv.delimiter": ","}
	if coord.ID() == work.ID() || coord.ID() != (JobSpec{"tables[0].csv.delimiter": ",", "tables[0].prefix": "orders/", "source.bucket": "raw"}).ID() {
		t.Fatal("job IDs are not one per spec")
	}
	got := DescribeDiff(Diff(coord, work), "coordinator", "this worker", 5)
	want := `tables[0].glob: (absent) (coordinator) vs "*.csv" (this worker); tables[0].prefix: "orders/" (coordinator) vs "order/" (this worker)`
	if got != want {
		t.Fatalf("diff:\n got %s\nwant %s", got, want)
	}
	if d := Diff(coord, coord); len(d) != 0 {
		t.Fatalf("a spec differs from itself: %v", d)
	}
}
