package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

type fakeReuser struct {
	failPart string // ReusePart fails permanently for this part
}

func (fakeReuser) PreviousLoad(context.Context, string) (PreviousLoad, error) {
	return PreviousLoad{}, nil
}

func (r fakeReuser) ReusePart(_ context.Context, _, load, part string) (string, error) {
	if part == r.failPart {
		return "", final{errors.New("no such part")}
	}
	return load + "/" + part, nil
}

// Only parts whose every file is listed again unchanged are reused as they
// are; the unchanged files of a part that also holds a changed one are
// copied from it; a part that cannot be reused has its files loaded like
// new ones.
func TestReuseRecords(t *testing.T) {
	src := func(key, etag string) messages.Source {
		return messages.Source{Bucket: "b", Key: key, ETag: etag, Size: 10}
	}
	prev := PreviousLoad{LoadID: "old", Files: []PreviousFile{
		{Source: src("a", "1"), Part: "p1", PartFiles: 1, Rows: 5, Bytes: 100},
		{Source: src("b", "1"), Part: "p2", PartFiles: 2, Rows: 3, Bytes: 200},
		{Source: src("c", "1"), Part: "p2", PartFiles: 2, Rows: 4, Bytes: 200},
		{Source: src("d", "1"), Part: "p3", PartFiles: 2, Rows: 1, Bytes: 300},
		{Source: src("e", "1"), Part: "p3", PartFiles: 2, Rows: 2, Bytes: 300},
		{Source: src("f", "1"), Part: "p4", PartFiles: 1, Rows: 7, Bytes: 400},
	}}
	c := &Coordinator{cfg: Config{RetryFor: time.Second, SplitBytes: -1}.withDefaults(), Ports: Ports{Reuse: fakeReuser{failPart: "p4"}}}
	p := &reusePlan{prev: prev, byID: map[objectVersion]PreviousFile{}, seen: map[string][]messages.Source{}}
	for _, f := range prev.Files {
		p.byID[versionOf(f.Source)] = f
	}
	// a unchanged; b and c unchanged (p2 whole); d changed, e unchanged
	// (p3 not whole); f unchanged but its part cannot be reused.
	held := 0
	for _, s := range []messages.Source{src("a", "1"), src("b", "1"), src("c", "1"), src("d", "2"), src("e", "1"), src("f", "1"), src("g", "1")} {
		if p.hold(s) {
			held++
		}
	}
	if held != 5 {
		t.Fatalf("held %d files, want 5 (a, b, c, e, f)", held)
	}
	recs, reused, _ := c.reuseRecords(context.Background(), "new", Table{Name: "t"}, nil, p, slog.New(slog.DiscardHandler))
	if reused != 4 {
		t.Errorf("reused %d files, want 4 (a, b, c whole; e copied)", reused)
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r.Source.Key] = fmt.Sprintf("%s %s %d/%d from %q", r.State, r.Part, r.Rows, r.PartFiles, r.From)
	}
	want := map[string]string{
		"a": `loaded new/p1 5/1 from ""`,
		"b": `loaded new/p2 3/2 from ""`,
		"c": `loaded new/p2 4/2 from ""`,
		"e": `listed  0/0 from "p3"`,
		"f": `listed  0/0 from ""`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records:\n got %v\nwant %v", got, want)
	}
}

// The fingerprint's config part follows the table's own spec entries and
// the table format, not its place in the config or other tables; the whole
// also follows the decided schema.
func TestFingerprint(t *testing.T) {
	fp := func(spec messages.JobSpec, i int, schema string) string {
		c := &Coordinator{cfg: Config{Spec: spec}}
		return c.Fingerprint(i, messages.TableRecord{Schema: []byte(schema)})
	}
	base := messages.JobSpec{"table_format": "iceberg", "tables[0].name": "t", "tables[0].csv.null_values": `""`}
	same := fp(base, 0, "s")
	moved := messages.JobSpec{"table_format": "iceberg", "tables[0].name": "u", "tables[1].name": "t", "tables[1].csv.null_values": `""`}
	if fp(moved, 1, "s") != same {
		t.Error("the same table at another place in the config has another fingerprint")
	}
	nulls := messages.JobSpec{"table_format": "iceberg", "tables[0].name": "t", "tables[0].csv.null_values": `"NA"`}
	format := messages.JobSpec{"table_format": "parquet", "tables[0].name": "t", "tables[0].csv.null_values": `""`}
	plain := messages.JobSpec{"table_format": "iceberg", "parquet_encodings": "plain", "tables[0].name": "t", "tables[0].csv.null_values": `""`}
	newDecoder := (&Coordinator{cfg: Config{Spec: base, DecodeVersion: "2"}}).Fingerprint(0, messages.TableRecord{Schema: []byte("s")})
	for name, other := range map[string]string{"null_values": fp(nulls, 0, "s"), "table_format": fp(format, 0, "s"), "schema": fp(base, 0, "s2"),
		"decode_version": newDecoder, "parquet_encodings": fp(plain, 0, "s")} {
		if other == same {
			t.Errorf("a changed %s keeps the fingerprint", name)
		}
	}
	cfgPart := func(s string) string { return s[:32] }
	if cfgPart(fp(base, 0, "s2")) != cfgPart(same) {
		t.Error("a changed schema changes the config part")
	}
	if cfgPart(fp(plain, 0, "s")) != cfgPart(same) {
		t.Error("other Parquet encodings change the config part (the pre-flight would read every file again)")
	}
}

// Where the table format masks rows, a part whose other files changed stays
// while no more than half its rows are masked, its kept files recorded as
// the part's only members; beyond that, or without masks, or when the
// part's row count is not known, it is rewritten.
func TestReuseRecordsMasks(t *testing.T) {
	src := func(key string) messages.Source {
		return messages.Source{Bucket: "b", Key: key, ETag: "1", Size: 10}
	}
	for _, c := range []struct {
		name     string
		masks    bool
		partRows int64 // the part holds a (4 rows), b (3), c (3), d (2 masked before)
		kept     []string
		want     string // how a's record comes out
	}{
		{"half masked", true, 12, []string{"a", "b"}, `loaded new/p 4/2 from ""`},
		{"none masked", true, 12, []string{"a", "b", "c"}, `loaded new/p 4/3 from ""`},
		{"more than half masked", true, 12, []string{"a"}, `listed  0/0 from "p"`},
		{"earlier masks count", true, 20, []string{"a", "b"}, `listed  0/0 from "p"`},
		{"no masks", false, 12, []string{"a", "b"}, `listed  0/0 from "p"`},
		{"rows not known", true, 0, []string{"a", "b"}, `listed  0/0 from "p"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := map[string]int64{"a": 4, "b": 3, "c": 3}
			prev := PreviousLoad{LoadID: "old", Masks: c.masks}
			for _, k := range []string{"a", "b", "c"} {
				prev.Files = append(prev.Files, PreviousFile{Source: src(k), Part: "p", PartFiles: 3, Rows: rows[k], Bytes: 100, PartRows: c.partRows})
			}
			co := &Coordinator{cfg: Config{RetryFor: time.Second, SplitBytes: -1}.withDefaults(), Ports: Ports{Reuse: fakeReuser{}}}
			p := &reusePlan{prev: prev, byID: map[objectVersion]PreviousFile{}, seen: map[string][]messages.Source{}}
			for _, f := range prev.Files {
				p.byID[versionOf(f.Source)] = f
			}
			for _, k := range c.kept {
				p.hold(src(k))
			}
			recs, reused, _ := co.reuseRecords(context.Background(), "new", Table{Name: "t"}, nil, p, slog.New(slog.DiscardHandler))
			if reused != len(c.kept) {
				t.Errorf("reused %d files, want %d", reused, len(c.kept))
			}
			for _, r := range recs {
				if r.Source.Key != "a" {
					continue
				}
				if got := fmt.Sprintf("%s %s %d/%d from %q", r.State, r.Part, r.Rows, r.PartFiles, r.From); got != c.want {
					t.Errorf("a's record: %s, want %s", got, c.want)
				}
			}
		})
	}
}

// A listing's small files are batched across its pages: pages of 10 files
// each make full batches, not a task of 10 per page.
func TestBatcherAcrossPages(t *testing.T) {
	b := &batcher{size: 64}
	var batches [][]messages.TaskFile
	for page := range 10 {
		var files []messages.TaskFile
		for i := range 10 {
			files = append(files, messages.TaskFile{Source: messages.Source{Key: fmt.Sprintf("%d-%d", page, i)}})
		}
		batches = append(batches, b.take(files)...)
	}
	if rest := b.rest(); len(rest) > 0 {
		batches = append(batches, rest)
	}
	if len(batches) != 2 || len(batches[0]) != 64 || len(batches[1]) != 36 {
		t.Errorf("%d batches (first %d files); want 64 and 36 files", len(batches), len(batches[0]))
	}
	if rest := b.rest(); rest != nil {
		t.Errorf("rest after rest: %d files", len(rest))
	}
}
