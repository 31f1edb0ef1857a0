package coordinator

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// lostQueue takes tasks and loses them all (a purged stream): its backlog
// is always empty.
type lostQueue struct {
	mu        sync.Mutex
	published []messages.Task
}

func (q *lostQueue) Publish(_ context.Context, tasks ...messages.Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.published = append(q.published, tasks...)
	return nil
}
func (*lostQueue) Ensure(context.Context) (time.Time, error)    { return time.Time{}, nil }
func (*lostQueue) Backlog(context.Context, string) (int, error) { return 0, nil }

func (q *lostQueue) reissued() map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[string]int{}
	for _, task := range q.published {
		if task.Reissued {
			for _, f := range task.Files {
				out[f.Source.Key]++
			}
		}
	}
	return out
}

// fleet reports one live worker holding one file.
type fleet struct{ holding messages.Holding }

func (f fleet) Workers(context.Context, string) ([]messages.WorkerRecord, error) {
	return []messages.WorkerRecord{{ID: "w", Updated: time.Now(), Holding: []messages.Holding{f.holding}}}, nil
}

// Tasks lost by the queue are published again, a check interval apart,
// and only for files no live worker holds: a file in work keeps its worker,
// however long it takes.
func TestLostTasksArePublishedAgain(t *testing.T) {
	st := newOutageState(false)
	files := pageLister{
		{Bucket: "b", Key: "t/held.csv", ETag: "e", Size: 10},
		{Bucket: "b", Key: "t/lost.csv", ETag: "e", Size: 10},
	}
	q := &lostQueue{}
	c, err := New(Config{Job: "j", Bucket: "b", BatchFiles: 1, CheckInterval: 50 * time.Millisecond,
		Tables: []Table{{Name: "t", Prefix: "t/", Schema: []byte("s")}}}, Ports{
		Lister: files, Prober: noProber{}, Merger: firstMerger{}, Queue: q, State: st, Leases: st, Committer: &countingCommitter{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); _, _ = c.Run(ctx) }()
	// The holder is known once the load is: it is in the load record.
	var load string
	deadline := time.Now().Add(10 * time.Second)
	for load == "" {
		if rec, _, err := st.Load(ctx, "j"); err == nil {
			load = rec.LoadID
		}
		if time.Now().After(deadline) {
			t.Fatal("no load started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done

	held := messages.Source{Bucket: "b", Key: "t/held.csv"}
	c.Fleet = fleet{holding: messages.Holding{LoadID: load, Table: "t", Token: held.Token()}}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	done = make(chan struct{})
	go func() { defer close(done); _, _ = c.Run(ctx) }()
	deadline = time.Now().Add(10 * time.Second)
	for q.reissued()["t/lost.csv"] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the lost file's task was never published again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(5 * c.cfg.CheckInterval) // room to misbehave: a held file must never be published again
	cancel()
	<-done
	if n := q.reissued()["t/held.csv"]; n != 0 {
		t.Fatalf("a file a live worker holds was published again %d times", n)
	}
}

// A file to be copied from a committed part, published again (its task
// lost) or recorded again (its record lost), is still copied from that
// part: its task names it, and the files of one part share a task.
func TestRepublishedRewriteKeepsItsPart(t *testing.T) {
	q := &lostQueue{}
	st := newOutageState(false)
	c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/", Schema: []byte("s")}}},
		Ports{Lister: pageLister{}, Prober: noProber{}, Merger: firstMerger{}, Queue: q, State: st, Leases: st, Committer: &countingCommitter{}})
	if err != nil {
		t.Fatal(err)
	}
	tc := &tableRun{c: c, load: "l", t: c.cfg.Tables[0]}
	rec := func(key, from string) messages.FileRecord {
		return messages.FileRecord{LoadID: "l", Table: "t", Source: messages.Source{Bucket: "b", Key: key, ETag: "e", Size: 10}, From: from, State: messages.StateListed}
	}
	ctx := context.Background()
	if err := tc.republish(ctx, []fileView{{rec: rec("t/a.csv", "old/p1.parquet"), rev: 3}, {rec: rec("t/b.csv", "old/p1.parquet"), rev: 4}, {rec: rec("t/c.csv", ""), rev: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := tc.restore(ctx, []messages.FileRecord{rec("t/d.csv", "old/p2.parquet")}); err != nil {
		t.Fatal(err)
	}
	from := map[string]string{}
	for _, task := range q.published {
		for _, f := range task.Files {
			from[f.Source.Key] = f.From
			if f.From != task.Files[0].From {
				t.Errorf("task %s mixes files of part %q and %q", task.ID, task.Files[0].From, f.From)
			}
		}
	}
	want := map[string]string{"t/a.csv": "old/p1.parquet", "t/b.csv": "old/p1.parquet", "t/c.csv": "", "t/d.csv": "old/p2.parquet"}
	if !maps.Equal(from, want) {
		t.Errorf("published again with parts %v, want %v", from, want)
	}
	if got, _, err := st.File(ctx, "l", "t", rec("t/d.csv", "").Token()); err != nil || got.From != "old/p2.parquet" {
		t.Errorf("the restored record: %+v, %v; want it to name its part", got, err)
	}
}
