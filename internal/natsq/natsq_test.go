package natsq

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/messages"
)

// embeddedJetStream starts an embedded server for the test and connects.
func embeddedJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	js, stop := startJetStream(t, t.TempDir())
	t.Cleanup(stop)
	return js
}

// startJetStream starts an embedded server storing in dir and connects;
// stop closes the connection and shuts the server down, keeping dir.
func startJetStream(t *testing.T, dir string) (js jetstream.JetStream, stop func()) {
	t.Helper()
	srv, err := StartEmbedded(dir, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	nc, js, err := Connect(context.Background(), ConnectOptions{URL: srv.URL(), Name: "test"})
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	return js, func() { nc.Close(); srv.Shutdown() }
}

func connect(t *testing.T, opts Options) (*Queue, *State) {
	t.Helper()
	return openOn(t, embeddedJetStream(t), opts)
}

// openOn opens the job's queue and the state bucket on js.
func openOn(t *testing.T, js jetstream.JetStream, opts Options) (*Queue, *State) {
	t.Helper()
	ctx := context.Background()
	q, err := OpenQueue(ctx, js, "job1", opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenState(ctx, js, opts)
	if err != nil {
		t.Fatal(err)
	}
	return q, st
}

var src = messages.Source{Bucket: "b", Key: "a key.with*odd>chars", ETag: "e", Size: 3}

func TestStateCompareAndSet(t *testing.T) {
	_, st := connect(t, Options{})
	ctx := context.Background()
	if _, _, err := st.File(ctx, "l", "t", src.Token()); !errors.Is(err, messages.ErrNotFound) {
		t.Fatalf("missing record: %v, want ErrNotFound", err)
	}
	rec := messages.FileRecord{LoadID: "l", Table: "t", Source: src, State: messages.StateListed}
	rev, err := st.PutFile(ctx, rec, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutFile(ctx, rec, 0); !errors.Is(err, messages.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	rec.State = messages.StateLoaded
	if _, err := st.PutFile(ctx, rec, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutFile(ctx, rec, rev); !errors.Is(err, messages.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict (the zombie fence)", err)
	}
	got, _, err := st.File(ctx, "l", "t", src.Token())
	if err != nil || got.State != messages.StateLoaded || got.Source != src {
		t.Fatalf("read back %+v %v", got, err)
	}
	revs, err := st.CreateFiles(ctx, []messages.FileRecord{rec, {LoadID: "l", Table: "t", Source: messages.Source{Bucket: "b", Key: "other"}}})
	if err != nil || revs[0] != 0 || revs[1] == 0 {
		t.Fatalf("CreateFiles = %v, %v; want 0 for the existing record and a revision for the new one", revs, err)
	}
	files, err := st.Files(ctx, "l", "t")
	if err != nil || len(files) != 2 {
		t.Fatalf("Files = %v, %v", files, err)
	}
	if files, _ := st.Files(ctx, "l", "other"); len(files) != 0 {
		t.Fatalf("another table's files leaked in: %v", files)
	}
}

func TestQueueDeduplicatesAndRedelivers(t *testing.T) {
	q, _ := connect(t, Options{AckWait: time.Second, FetchWait: 200 * time.Millisecond})
	ctx := context.Background()
	task := messages.Task{ID: messages.DedupID("l", "t", src), LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}}
	for range 2 {
		if err := q.Publish(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	d, err := q.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Task().Files[0].Source != src || d.Delivered() != 1 {
		t.Fatalf("got %+v delivered %d", d.Task(), d.Delivered())
	}
	if _, err := q.Next(ctx); !errors.Is(err, ErrNoTask) {
		t.Fatalf("the duplicate publish was delivered too: %v", err)
	}
	// Not acked: after the ack wait it comes again, counted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		d2, err := q.Next(ctx)
		if err == nil {
			if d2.Delivered() != 2 {
				t.Fatalf("redelivery counted %d", d2.Delivered())
			}
			if err := d2.Ack(ctx); err != nil {
				t.Fatal(err)
			}
			break
		}
		if !errors.Is(err, ErrNoTask) || time.Now().After(deadline) {
			t.Fatalf("no redelivery: %v", err)
		}
	}
	if _, err := q.Next(ctx); !errors.Is(err, ErrNoTask) {
		t.Fatalf("an acked task came back: %v", err)
	}
}
