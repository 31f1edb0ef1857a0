package natsq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

func keptFiles(n int) []messages.KeptFile {
	out := make([]messages.KeptFile, n)
	for i := range out {
		out[i] = messages.KeptFile{Source: messages.Source{Bucket: "b", Key: fmt.Sprintf("k%02d", i), ETag: "e", Size: 10}, Rows: int64(i + 1)}
	}
	return out
}

// watchAll follows a table's file events into a map of the files as the
// watch sees them now, until ctx ends.
type watchAll struct {
	events chan coordinator.FileEvent
}

func startWatch(t *testing.T, ctx context.Context, st *State) *watchAll {
	t.Helper()
	w := &watchAll{events: make(chan coordinator.FileEvent, 1024)}
	go func() { // ends with ctx, which the test cancels
		_ = st.WatchFiles(ctx, "l", "t", func(ev coordinator.FileEvent) error {
			select {
			case w.events <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return w
}

// until applies events to files until ok holds, or fails the test after a
// deadline; it returns the events applied.
func (w *watchAll) until(t *testing.T, files map[string]messages.FileRecord, ok func() bool) []coordinator.FileEvent {
	t.Helper()
	var seen []coordinator.FileEvent
	deadline := time.After(10 * time.Second)
	for !ok() {
		select {
		case ev := <-w.events:
			seen = append(seen, ev)
			switch {
			case ev.Token == "":
			case ev.Deleted:
				delete(files, ev.Token)
			default:
				files[ev.Token] = ev.Record
			}
		case <-deadline:
			t.Fatalf("the watch never got there; files now: %d", len(files))
		}
	}
	return seen
}

// A kept record reads back as one loaded record per file, in Files and in
// a watch; unkept, its files have records of their own that can be reset
// or removed one by one, and the watch sees no file deleted on the way.
func TestKeptRecords(t *testing.T) {
	_, st := connect(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	own := messages.FileRecord{LoadID: "l", Table: "t", Source: messages.Source{Bucket: "b", Key: "new", ETag: "e"}, State: messages.StateListed}
	if _, err := st.CreateFiles(ctx, []messages.FileRecord{own}); err != nil {
		t.Fatal(err)
	}
	kept := messages.KeptRecord{LoadID: "l", Table: "t", Part: "data/p1.parquet", PartFiles: 3, Bytes: 100, Files: keptFiles(3)}
	for range 2 { // a second create (a resumed listing) leaves it as it is
		if err := st.CreateKept(ctx, []messages.KeptRecord{kept}); err != nil {
			t.Fatal(err)
		}
	}
	files, err := st.Files(ctx, "l", "t")
	if err != nil || len(files) != 4 {
		t.Fatalf("Files = %d records, %v; want the listed one and the kept part's 3", len(files), err)
	}
	for _, f := range files[1:] {
		if f.State != messages.StateLoaded || f.Part != kept.Part || f.PartFiles != 3 || f.Kept != kept.Token() || f.Bytes != 100 || f.Rows == 0 {
			t.Fatalf("kept file read back as %+v", f)
		}
	}

	w := startWatch(t, ctx, st)
	now := map[string]messages.FileRecord{}
	w.until(t, now, func() bool { return len(now) == 4 })

	if err := st.Unkeep(ctx, "l", "t", kept.Token()); err != nil {
		t.Fatal(err)
	}
	if err := st.Unkeep(ctx, "l", "t", kept.Token()); err != nil {
		t.Fatalf("unkeeping again: %v", err)
	}
	// Its files now have records of their own, which a CAS write can reset.
	tok := kept.Records()[1].Token()
	rec, rev, err := st.File(ctx, "l", "t", tok)
	if err != nil || rec.State != messages.StateLoaded || rec.Kept != "" || rec.Part != kept.Part {
		t.Fatalf("an unkept file's own record: %+v %v", rec, err)
	}
	rec.State, rec.Part = messages.StateListed, ""
	if _, err := st.PutFile(ctx, rec, rev); err != nil {
		t.Fatal(err)
	}
	gone := kept.Records()[2].Token()
	if err := st.DeleteFile(ctx, "l", "t", gone); err != nil {
		t.Fatal(err)
	}
	seen := w.until(t, now, func() bool { return len(now) == 3 && now[tok].State == messages.StateListed })
	for _, ev := range seen {
		if ev.Deleted && ev.Token != gone {
			t.Errorf("the watch saw %s deleted while its part was unkept", ev.Token)
		}
		if messages.IsKeptToken(ev.Token) {
			t.Errorf("the watch passed the kept record itself on: %s", ev.Token)
		}
	}
	files, err = st.Files(ctx, "l", "t")
	if err != nil || len(files) != 3 || slices.ContainsFunc(files, func(f messages.FileRecord) bool { return f.Kept != "" || f.Token() == gone }) {
		t.Fatalf("after unkeeping: Files = %+v, %v", files, err)
	}
	if err := st.DropLoad(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	if files, _ := st.Files(ctx, "l", "t"); len(files) != 0 {
		t.Fatalf("DropLoad left %d file records", len(files))
	}
}

// A file's own record wins over a kept record that also lists it: the
// state a crash leaves between Unkeep's two writes reads the same.
func TestKeptRecordLosesToOwn(t *testing.T) {
	_, st := connect(t, Options{})
	ctx := context.Background()
	kept := messages.KeptRecord{LoadID: "l", Table: "t", Part: "p", PartFiles: 2, Files: keptFiles(2)}
	recs := kept.Records()
	recs[0].State, recs[0].Part = messages.StateListed, ""
	if _, err := st.CreateFiles(ctx, recs[:1]); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateKept(ctx, []messages.KeptRecord{kept}); err != nil {
		t.Fatal(err)
	}
	files, err := st.Files(ctx, "l", "t")
	if err != nil || len(files) != 2 {
		t.Fatalf("Files = %+v, %v", files, err)
	}
	for _, f := range files {
		if f.Token() == recs[0].Token() && (f.State != messages.StateListed || f.Kept != "") {
			t.Fatalf("the kept record won over the file's own: %+v", f)
		}
	}
}

// A kept record over the server's max payload is refused at once, so the
// coordinator records its files one by one.
func TestKeptRecordTooLarge(t *testing.T) {
	_, st := connect(t, Options{})
	files := keptFiles(1)
	files[0].Source.Key = strings.Repeat("k", 2<<20)
	err := st.CreateKept(context.Background(), []messages.KeptRecord{{LoadID: "l", Table: "t", Part: "p", PartFiles: 1, Files: files}})
	if !errors.Is(err, messages.ErrTooLarge) {
		t.Fatalf("CreateKept = %v, want ErrTooLarge", err)
	}
}

// A kept record deleted with no own records written for its files (a
// load's records dropped) takes its files with it: the watch says each
// deleted once it has caught up.
func TestKeptRecordDeletedTakesItsFiles(t *testing.T) {
	_, st := connect(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kept := messages.KeptRecord{LoadID: "l", Table: "t", Part: "data/p1.parquet", PartFiles: 3, Bytes: 100, Files: keptFiles(3)}
	if err := st.CreateKept(ctx, []messages.KeptRecord{kept}); err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, ctx, st)
	now := map[string]messages.FileRecord{}
	w.until(t, now, func() bool { return len(now) == 3 })
	if err := st.DeleteFile(ctx, "l", "t", kept.Token()); err != nil {
		t.Fatal(err)
	}
	seen := w.until(t, now, func() bool { return len(now) == 0 })
	deleted := 0
	for _, ev := range seen {
		if ev.Deleted {
			deleted++
		}
	}
	if deleted != 3 {
		t.Errorf("the watch said %d files deleted, want the kept record's 3", deleted)
	}
}
