package s3store_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/s3store"
)

// Conditional writes are what a table lease stands on: a create that finds
// the key taken and a replace that finds another version must both lose.
func TestConditionalPut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const key = "t/_lease.json"

	etag1, err := e.st.PutIfAbsent(ctx, dstBucket, key, []byte("one"))
	if err != nil || etag1 == "" {
		t.Fatalf("PutIfAbsent on a new key: %q, %v", etag1, err)
	}
	if _, err := e.st.PutIfAbsent(ctx, dstBucket, key, []byte("two")); !errors.Is(err, s3store.ErrPreconditionFailed) {
		t.Fatalf("PutIfAbsent on an existing key: %v, want ErrPreconditionFailed", err)
	}
	data, etag, err := e.st.GetWithETag(ctx, dstBucket, key)
	if err != nil || string(data) != "one" || etag != etag1 {
		t.Fatalf("GetWithETag = %q %q %v, want %q %q", data, etag, err, "one", etag1)
	}

	etag2, err := e.st.PutIfMatch(ctx, dstBucket, key, []byte("three"), etag1)
	if err != nil || etag2 == "" || etag2 == etag1 {
		t.Fatalf("PutIfMatch with the current ETag: %q, %v", etag2, err)
	}
	if _, err := e.st.PutIfMatch(ctx, dstBucket, key, []byte("four"), etag1); !errors.Is(err, s3store.ErrPreconditionFailed) {
		t.Fatalf("PutIfMatch with a stale ETag: %v, want ErrPreconditionFailed", err)
	}
	if _, err := e.st.PutIfMatch(ctx, dstBucket, "t/missing", []byte("x"), etag2); !errors.Is(err, s3store.ErrPreconditionFailed) {
		t.Fatalf("PutIfMatch on a missing key: %v, want ErrPreconditionFailed", err)
	}
	if data, _, _ := e.st.GetWithETag(ctx, dstBucket, key); string(data) != "three" {
		t.Fatalf("after the lost writes the object holds %q, want %q", data, "three")
	}
	if _, _, err := e.st.GetWithETag(ctx, dstBucket, "t/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("GetWithETag of a missing key: %v, want fs.ErrNotExist", err)
	}
	if _, err := e.st.PutIfAbsent(ctx, "missing-bucket", key, []byte("x")); err == nil || errors.Is(err, s3store.ErrPreconditionFailed) {
		t.Fatalf("PutIfAbsent into a missing bucket: %v, want an error other than a lost race", err)
	}
}

func TestReadTail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data := make([]byte, 100_000)
	rand.Read(data)
	if err := e.st.Put(ctx, dstBucket, "p/part.parquet", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Put(ctx, dstBucket, "p/empty", bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	mark := e.logMark(t)
	for _, n := range []int64{1, 8, 4096, int64(len(data)), int64(len(data)) + 1000} {
		got, size, err := e.st.ReadTail(ctx, dstBucket, "p/part.parquet", n)
		want := data[max(0, int64(len(data))-n):]
		if err != nil || size != int64(len(data)) || !bytes.Equal(got, want) {
			t.Errorf("ReadTail(%d) = %d bytes, size %d, %v; want the last %d bytes and size %d", n, len(got), size, err, len(want), len(data))
		}
	}
	if n := countOps(e.logSince(t, mark), dstBucket, "GetObject"); n != 5 {
		t.Errorf("%d GetObject requests for 5 tails, want 5", n)
	}
	if got, size, err := e.st.ReadTail(ctx, dstBucket, "p/empty", 8); err != nil || size != 0 || len(got) != 0 {
		t.Errorf("ReadTail of an empty object = %d bytes, size %d, %v", len(got), size, err)
	}
	if _, _, err := e.st.ReadTail(ctx, dstBucket, "p/missing", 8); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadTail of a missing key: %v, want fs.ErrNotExist", err)
	}
}

// TestGetWithETagDuringWrites: reads racing replacements of the key each
// get one version whole, with an ETag never newer than the body
// (versitygw's ETags are MD5s of the body, which tells their versions).
// An older ETag is safe: a PutIfMatch naming it loses. The writer waits for
// a read after each write, so the reader keeps racing writes but a retried
// read is not raced by an endless stream of them.
func TestGetWithETagDuringWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const key = "t/_lease.json"
	const writes = 100
	body := func(v int) []byte { return []byte(fmt.Sprintf("version %d", v)) }
	versionOf := map[string]int{} // body MD5 -> version
	for v := range writes + 1 {
		sum := md5.Sum(body(v))
		versionOf[hex.EncodeToString(sum[:])] = v
	}
	etag, err := e.st.PutIfAbsent(ctx, dstBucket, key, body(0))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	readOK := make(chan struct{})
	failed := make(chan struct{})
	var failOnce sync.Once
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		failOnce.Do(func() { close(failed) })
	}
	var wg sync.WaitGroup
	var reads, olderETags atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			data, got, err := e.st.GetWithETag(ctx, dstBucket, key)
			if err != nil {
				fail("GetWithETag during writes: %v", err)
				return
			}
			sum := md5.Sum(data)
			bodyVersion, ok := versionOf[hex.EncodeToString(sum[:])]
			etagVersion, eok := versionOf[got]
			if !ok || !eok || etagVersion > bodyVersion {
				fail("GetWithETag paired %q with ETag %s", data, got)
				return
			}
			if etagVersion < bodyVersion {
				olderETags.Add(1)
			}
			reads.Add(1)
			select {
			case readOK <- struct{}{}:
			default:
			}
		}
	})
	deadline := time.After(30 * time.Second)
writes:
	for v := 1; v <= writes; v++ {
		if etag, err = e.st.PutIfMatch(ctx, dstBucket, key, body(v), etag); err != nil {
			t.Error(err)
			break
		}
		select {
		case <-readOK:
		case <-failed:
			break writes
		case <-deadline:
			t.Error("no read succeeded in time")
			break writes
		}
	}
	close(done)
	wg.Wait()
	t.Logf("%d reads during %d writes, %d with an older ETag", reads.Load(), writes, olderETags.Load())
}
