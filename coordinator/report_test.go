package coordinator

import (
	"context"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

func rangeRec(key string, i, n int, state messages.FileState, rows int64) messages.FileRecord {
	src := messages.Source{Bucket: "b", Key: key, Size: 100}
	r := &messages.Range{Index: i, Count: n, Start: int64(i) * 100 / int64(n), End: int64(i+1) * 100 / int64(n)}
	return messages.FileRecord{Source: src, Range: r, State: state, Rows: rows, Part: messages.PartName(src, r), PartFiles: 1}
}

// A split file counts once: loaded when every range is, failed (with none
// of its ranges committed) when one is not; merged ranges do not count.
func TestSummarizeSplitFiles(t *testing.T) {
	whole := rangeRec("m", 0, 3, messages.StateLoaded, 30)
	whole.Range.End = 100
	files := []messages.FileRecord{
		rangeRec("a", 1, 2, messages.StateLoaded, 5),
		rangeRec("a", 0, 2, messages.StateLoaded, 4),
		rangeRec("f", 0, 2, messages.StateLoaded, 4),
		rangeRec("f", 1, 2, messages.StateFailed, 0),
		whole,
		rangeRec("m", 1, 3, messages.StateMerged, 0),
		rangeRec("m", 2, 3, messages.StateMerged, 0),
		{Source: messages.Source{Bucket: "b", Key: "z"}, State: messages.StateLoaded, Rows: 1, Part: "p", PartFiles: 1},
	}
	r := summarize("t", messages.TableRecord{Files: 4}, files)
	if r.Loaded != 3 || r.Failed != 1 || r.Rows != 4+5+30+1 || len(r.loaded) != 4 || len(r.failed) != 1 {
		t.Fatalf("loaded %d failed %d rows %d; %d records to commit, %d failed", r.Loaded, r.Failed, r.Rows, len(r.loaded), len(r.failed))
	}
	for _, f := range r.loaded {
		if f.Source.Key == "f" {
			t.Errorf("a range of a failed split file would be committed: %+v", f)
		}
	}
	if got := failedSplits(files); len(got) != 1 || got[0].Source.Key != "f" || got[0].Range.Index != 0 {
		t.Errorf("failedSplits = %+v, want the first range of f (m is whole already)", got)
	}
}

// Ranges tile the file: no byte twice, none left out; a file of three
// ranges or more ends on tailPieces pieces of its last range.
func TestRanges(t *testing.T) {
	c := &Coordinator{cfg: Config{SplitBytes: 10, Splittable: func(context.Context, string, []byte, messages.Source) bool { return true }}}
	for size, want := range map[int64]int{10: 0, 11: 2, 20: 2, 21: 3 - 1 + tailPieces, 25: 3 - 1 + tailPieces,
		99: 10 - 1 + tailPieces, 100: 10 - 1 + tailPieces, 101: 11 - 1 + tailPieces} {
		rs := c.ranges(context.Background(), "t", nil, messages.Source{Size: size})
		if len(rs) != want {
			t.Errorf("size %d: %d ranges, want %d", size, len(rs), want)
			continue
		}
		var next int64
		for i, r := range rs {
			limit := int64(10)
			if want > 2 && i >= want-tailPieces {
				limit = 3 // a quarter of a range of at most 10 bytes, rounded up
			}
			if r.Index != i || r.Count != len(rs) || r.Start != next || r.End <= r.Start || r.End-r.Start > limit {
				t.Errorf("size %d: range %+v", size, r)
			}
			next = r.End
		}
		if len(rs) > 0 && next != size {
			t.Errorf("size %d: ranges end at %d", size, next)
		}
	}
}

// A file whose ranges an earlier run of the load recorded in the layout of
// a coordinator of another version (9 equal ranges, before the last was
// cut in four) keeps them: the ranges this run adds past them are merged,
// and every byte loads once.
func TestRangesRecordedInAnotherLayoutStand(t *testing.T) {
	ctx := context.Background()
	st := newOutageState(false)
	cfg := Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/"}}, SplitBytes: 100,
		Splittable: func(context.Context, string, []byte, messages.Source) bool { return true }}
	src := messages.Source{Bucket: "b", Key: "t/big.csv", ETag: "e", Size: 900}
	c, err := New(cfg, ports(pageLister{src}, noProber{}, st, &countingCommitter{}))
	if err != nil {
		t.Fatal(err)
	}
	var earlier []messages.FileRecord
	for i := range 9 {
		earlier = append(earlier, messages.FileRecord{LoadID: "l", Table: "t", Source: src, State: messages.StateListed,
			Range: &messages.Range{Index: i, Count: 9, Start: int64(i) * 100, End: int64(i+1) * 100}})
	}
	if _, err := st.CreateFiles(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	recs := c.appendRecords(ctx, nil, "l", "t", nil, src, time.Now())
	if len(recs) != 9-1+tailPieces {
		t.Fatalf("this layout has %d ranges, want %d", len(recs), 9-1+tailPieces)
	}
	if err := c.recordAndPublish(ctx, "l", "t", recs, nil); err != nil {
		t.Fatal(err)
	}
	files, err := st.Files(ctx, "l", "t")
	if err != nil {
		t.Fatal(err)
	}
	covered := make([]int, src.Size)
	var merged int
	for _, f := range files {
		switch f.State {
		case messages.StateLoaded:
			for b := f.Range.Start; b < f.Range.End; b++ {
				covered[b]++
			}
		case messages.StateMerged:
			merged++
		default:
			t.Errorf("range %+v: state %s", f.Range, f.State)
		}
	}
	for b, n := range covered {
		if n != 1 {
			t.Fatalf("byte %d loaded %d times", b, n)
		}
	}
	if merged != tailPieces-1 {
		t.Errorf("%d ranges merged, want the %d this run added", merged, tailPieces-1)
	}
}
