package coordinator

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/s3load/s3load/messages"
)

// progressLog keeps every progress record a coordinator writes.
type progressLog struct {
	mu   sync.Mutex
	recs []messages.ProgressRecord
}

func (p *progressLog) PutProgress(_ context.Context, rec messages.ProgressRecord) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recs = append(p.recs, rec)
	return nil
}

func (p *progressLog) last() (messages.ProgressRecord, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.recs) == 0 {
		return messages.ProgressRecord{}, 0
	}
	return p.recs[len(p.recs)-1], len(p.recs)
}

// TestProgressEndsEqualToTheReport: the progress a load ends with, and
// the last record written for status readers, say what its report says.
func TestProgressEndsEqualToTheReport(t *testing.T) {
	st := newOutageState(false)
	var files pageLister
	for i := range 7 {
		files = append(files, messages.Source{Bucket: "b", Key: fmt.Sprintf("t/%d.csv", i), ETag: "e", Size: 100})
	}
	p := ports(files, noProber{}, st, &countingCommitter{})
	log := &progressLog{}
	p.ProgressStore = log
	c, err := New(Config{Job: "j", Bucket: "b", BatchFiles: 2, Tables: []Table{
		{Name: "t", Prefix: "t/", Schema: []byte("s")},
		{Name: "none", Prefix: "none/", Schema: []byte("s")},
	}}, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Progress(); got.LoadID != "" || len(got.Tables) != 0 {
		t.Fatalf("progress before a load: %+v, want the zero record", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := c.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Progress()
	written, n := log.last()
	if n == 0 {
		t.Fatal("no progress record was written")
	}
	for _, rec := range []messages.ProgressRecord{got, written} {
		if rec.LoadID != rep.LoadID || rec.Job != "j" || rec.State != messages.LoadIncomplete || rec.Ended.IsZero() || len(rec.Tables) != 2 {
			t.Fatalf("progress %+v, want load %s incomplete and ended, 2 tables", rec, rep.LoadID)
		}
		tp, want := rec.Tables[0], rep.Tables[0]
		if tp.Phase != messages.PhaseCommitted || !tp.Committed || tp.Files != want.Files || tp.Loaded != want.Loaded ||
			tp.Rows != want.Rows || tp.InFlight != 0 || tp.Loaded != 7 {
			t.Errorf("table t: %+v, want committed as reported: %+v", tp, want)
		}
		if none := rec.Tables[1]; none.Phase != messages.PhaseFailed || none.Error == "" || none.Error != rep.Tables[1].Error {
			t.Errorf("table none: %+v, want failed with the report's error %q", none, rep.Tables[1].Error)
		}
	}
}

// TestViewCountsFollowRecords: counts kept event by event equal a count
// of the records the view ends with, through changes and deletions.
func TestViewCountsFollowRecords(t *testing.T) {
	src := func(k string) messages.Source { return messages.Source{Bucket: "b", Key: k, ETag: "e", Size: 100} }
	rec := func(k string, s messages.FileState, rows int64) FileEvent {
		f := messages.FileRecord{Source: src(k), State: s, Rows: rows, Bytes: rows * 2}
		return FileEvent{Token: f.Token(), Record: f}
	}
	split := func(k string, i int, s messages.FileState) FileEvent {
		f := messages.FileRecord{Source: src(k), Range: &messages.Range{Index: i, Count: 2, Start: int64(i) * 50, End: int64(i+1) * 50}, State: s, Rows: 3}
		return FileEvent{Token: f.Token(), Record: f}
	}
	v := newView()
	for _, ev := range []FileEvent{
		rec("a", messages.StateListed, 0), rec("b", messages.StateListed, 0), rec("c", messages.StateListed, 0),
		split("d", 0, messages.StateListed), split("d", 1, messages.StateListed),
		rec("a", messages.StateLoaded, 10), rec("b", messages.StateFailed, 0),
		{Token: rec("c", "", 0).Token, Deleted: true},
		split("d", 0, messages.StateLoaded), split("d", 1, messages.StateLoaded),
	} {
		v.apply(ev)
	}
	var want viewCounts
	for _, f := range v.files {
		want.add(f.rec, 1)
	}
	if v.counts != want {
		t.Fatalf("counts %+v, want %+v", v.counts, want)
	}
	if want.loaded != 2 || want.failed != 1 || want.inFlight != 0 || want.rows != 16 || want.sourceBytes != 300 || want.doneBytes != 300 {
		t.Fatalf("counts %+v: want 2 loaded (a split file once), 1 failed, none in flight, 16 rows, 300 of 300 bytes done", want)
	}
}

// tooLargeStore refuses a progress record with any failure, as a NATS
// server refuses a payload over its limit.
type tooLargeStore struct{ progressLog }

func (s *tooLargeStore) PutProgress(ctx context.Context, rec messages.ProgressRecord) error {
	for _, t := range rec.Tables {
		if len(t.Failures) > 0 {
			return fmt.Errorf("writing progress: %w", messages.ErrTooLarge)
		}
	}
	return s.progressLog.PutProgress(ctx, rec)
}

// TestProgressTooLargeKeepsTheFigures: a record too large for the store
// (many tables with long errors) is written without its failures rather
// than not at all; each error in it is clipped.
func TestProgressTooLargeKeepsTheFigures(t *testing.T) {
	store := &tooLargeStore{}
	c := &Coordinator{cfg: Config{Job: "j", Tables: []Table{{Name: "t"}}}.withDefaults(), Ports: Ports{ProgressStore: store}}
	c.progress.start(c.cfg, messages.LoadRecord{LoadID: "l", Started: time.Now()})
	long := strings.Repeat("é", 2000)
	c.progress.failure(0, messages.FileRecord{Source: messages.Source{Key: "t/a.csv"}, State: messages.StateFailed, Error: long})
	if got := c.Progress().Tables[0].Failures[0].Error; len(got) > maxProgressError+len("…") || !utf8.ValidString(got) {
		t.Fatalf("error clipped to %d bytes (valid UTF-8: %v), want at most %d", len(got), utf8.ValidString(got), maxProgressError)
	}
	c.writeProgress(context.Background())
	rec, n := store.last()
	if n != 1 || rec.LoadID != "l" || len(rec.Tables) != 1 || rec.Tables[0].Failures != nil {
		t.Fatalf("wrote %d records, last %+v; want the figures without failures", n, rec)
	}
}
