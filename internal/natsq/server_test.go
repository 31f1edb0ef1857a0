package natsq

import (
	"context"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// An embedded server stopped while a worker's fetch is pending (as at the
// end of every `s3load run`) keeps its records and tasks: the next run on
// the same directory finds them.
func TestEmbeddedShutdownKeepsState(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	opts := Options{FetchWait: 10 * time.Second}
	js, stop := startJetStream(t, dir)
	q, st := openOn(t, js, opts)
	rec := messages.FileRecord{LoadID: "l", Table: "t", Source: src, State: messages.StateListed}
	if _, err := st.PutFile(ctx, rec, 0); err != nil {
		t.Fatal(err)
	}
	task := messages.Task{ID: messages.DedupID("l", "t", src), LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}}
	fetchCtx, stopFetch := context.WithCancel(ctx)
	fetched := make(chan struct{})
	go func() { // a worker waiting for a task when the run ends
		defer close(fetched)
		_, _ = q.Next(fetchCtx)
	}()
	waitPending(t, q)
	stopFetch()
	<-fetched
	if err := q.Publish(ctx, task); err != nil {
		t.Fatal(err)
	}
	stop()

	js, stop = startJetStream(t, dir)
	defer stop()
	q, st = openOn(t, js, opts)
	if got, _, err := st.File(ctx, "l", "t", src.Token()); err != nil || got.Source != src {
		t.Fatalf("after a restart the file record reads %+v, %v", got, err)
	}
	if n, err := q.Backlog(ctx, "t"); err != nil || n != 1 {
		t.Fatalf("after a restart the queue holds %d tasks of the table (%v), want the one published", n, err)
	}
}

// waitPending waits until the queue's consumer holds a pull request.
func waitPending(t *testing.T, q *Queue) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cons, err := q.consumer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumWaiting > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no pull request pending after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
