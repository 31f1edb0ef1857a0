package natsq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestReadOfRecreatedBucketEnds deletes the state bucket, and creates it
// again, while a read of its current records is under way: the watch under
// the read then never says it has them all, and the read must end anyway
// rather than hold its caller (a coordinator's check) for ever.
func TestReadOfRecreatedBucketEnds(t *testing.T) {
	js := embeddedJetStream(t)
	_, st := openOn(t, js, Options{})
	ctx := context.Background()
	const keys = 20000
	value := bytes.Repeat([]byte("x"), 1024)
	for i := range keys {
		if _, err := js.PublishAsync(fmt.Sprintf("$KV.%s.worker.job1.w%05d", StateBucket, i), value); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("timed out storing the records")
	}
	rctx, cancel := context.WithTimeout(ctx, 4*readStall)
	defer cancel()
	var tries, read int
	var first error
	err := st.do(rctx, func(kv jetstream.KeyValue) error {
		tries++
		err := readCurrent(rctx, kv, "worker.job1.*", 0, func(jetstream.KeyValueEntry) error {
			if read++; read == 1 {
				if err := js.DeleteKeyValue(ctx, StateBucket); err != nil {
					return err
				}
				if _, err := st.bucket(ctx, true); err != nil {
					return err
				}
			}
			return nil
		})
		if tries == 1 {
			first = err
		}
		return err
	})
	t.Logf("read %d of %d records in %d tries; the first ended with: %v", read, keys, tries, first)
	if rctx.Err() != nil {
		t.Fatal("the read of a bucket deleted and created again under it never ended")
	}
	if !errors.Is(first, errReadStalled) {
		t.Errorf("the first read ended with %v, want %v", first, errReadStalled)
	}
	if err != nil || tries != 2 {
		t.Errorf("reading the bucket created again: %d tries, %v; want 2 tries, no error", tries, err)
	}
}
