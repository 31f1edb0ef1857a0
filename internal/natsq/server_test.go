package natsq

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
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

// A server that cannot start says why, at once: its reasons are in the
// server's log, which an embedded server keeps off.
func TestStartEmbeddedFailureSaysWhy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		port      int
		want      string
	}{
		{"port in use", t.TempDir(), busy.Addr().(*net.TCPAddr).Port, "address already in use"},
		{"store is a file", notDir, 0, "JetStream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := StartEmbedded(tc.dir, "127.0.0.1", tc.port)
			if err == nil {
				srv.Shutdown()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}
