package natsq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// TestReadOfRecreatedBucketEnds deletes the state bucket, and creates it
// again, while the current records are being read, by a read and by a
// watch's first look: the watch under them then never says it has them
// all, and each must end anyway rather than hold its caller (a
// coordinator's check, or its view that checks wait for) for ever.
func TestReadOfRecreatedBucketEnds(t *testing.T) {
	js := embeddedJetStream(t)
	_, st := openOn(t, js, Options{})
	ctx := context.Background()
	const records = 20000
	store := func() {
		for i := range records {
			rec := messages.FileRecord{LoadID: "l", Table: "t", State: messages.StateListed,
				Source: messages.Source{Bucket: "b", Key: fmt.Sprintf("k%05d", i), ETag: "e", Size: 1},
				Error:  strings.Repeat("x", 1024)} // big enough that flow control holds most back
			data, err := messages.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := js.PublishAsync("$KV."+StateBucket+"."+filePrefix("l", "t")+rec.Token(), data); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-time.After(30 * time.Second):
			t.Fatal("timed out storing the records")
		}
	}
	store()
	// recreate deletes the bucket and creates it again, the first time.
	var recreated bool
	recreate := func() error {
		if recreated {
			return nil
		}
		recreated = true
		if err := js.DeleteKeyValue(ctx, StateBucket); err != nil {
			return err
		}
		_, err := st.bucket(ctx, true)
		return err
	}
	t.Run("read", func(t *testing.T) {
		rctx, cancel := context.WithTimeout(ctx, 4*readStall)
		defer cancel()
		var tries, read int
		var first error
		err := st.do(rctx, func(kv jetstream.KeyValue) error {
			tries++
			err := readCurrent(rctx, kv, filePrefix("l", "t")+"*", 0, func(jetstream.KeyValueEntry) error {
				read++
				return recreate()
			})
			if tries == 1 {
				first = err
			}
			return err
		})
		t.Logf("read %d of %d records in %d tries; the first ended with: %v", read, records, tries, first)
		if rctx.Err() != nil {
			t.Fatal("the read of a bucket deleted and created again under it never ended")
		}
		if !errors.Is(first, errReadStalled) {
			t.Errorf("the first read ended with %v, want %v", first, errReadStalled)
		}
		if err != nil || tries != 2 {
			t.Errorf("reading the bucket created again: %d tries, %v; want 2 tries, no error", tries, err)
		}
	})
	// The bucket is empty now: the records again, for the watch.
	recreated = false
	store()
	t.Run("watch", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 4*readStall)
		defer cancel()
		seen := 0
		err := st.WatchFiles(wctx, "l", "t", func(ev coordinator.FileEvent) error {
			if ev.Current && ev.Token == "" {
				return errors.New("the watch said it had every record")
			}
			seen++
			return recreate()
		})
		t.Logf("the watch saw %d of %d records, then: %v", seen, records, err)
		if wctx.Err() != nil {
			t.Fatal("the watch of a bucket deleted and created again under its first look never ended it")
		}
		if !errors.Is(err, errReadStalled) {
			t.Errorf("the watch ended with %v, want %v", err, errReadStalled)
		}
	})
}
