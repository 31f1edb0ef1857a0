package s3store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/messages"
)

// onlyReader hides bytes.Reader's Seek, as a pipe or a spool stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestTargetRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const minPart = 5 << 20 // S3's smallest non-final part
	s3store.SetPartSize(e.st, minPart)

	small := []byte(`{"v":1}`)
	big := make([]byte, 2*minPart+123)
	rand.Read(big)
	objects := map[string][]byte{
		"tables/t/_manifest.json":        small,
		"tables/t/load 1/part-ü.parquet": big,
		"tables/t/empty":                 {},
	}
	mark := e.logMark(t)
	for key, data := range objects {
		if err := e.st.Put(ctx, dstBucket, key, onlyReader{bytes.NewReader(data)}, int64(len(data))); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}
	entries := e.logSince(t, mark)
	if n := countOps(entries, dstBucket, "UploadPart"); n != 3 {
		t.Errorf("%d UploadPart requests for a body of 2 parts and a bit, want 3", n)
	}
	if n := countOps(entries, dstBucket, "CompleteMultipartUpload"); n != 1 {
		t.Errorf("%d CompleteMultipartUpload requests, want 1", n)
	}
	for key, data := range objects {
		got, err := e.st.Get(ctx, dstBucket, key)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Get %s: %d bytes (%v), want %d", key, len(got), err, len(data))
		}
	}

	listed, err := e.st.ListKeys(ctx, dstBucket, "tables/t/")
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(objects) {
		t.Fatalf("ListKeys: %v", listed)
	}
	for _, src := range listed {
		if data, ok := objects[src.Key]; !ok || src.Size != int64(len(data)) || src.ETag == "" || strings.Contains(src.ETag, `"`) {
			t.Errorf("ListKeys: unexpected %+v", src)
		}
	}

	for key := range objects {
		if err := e.st.Delete(ctx, dstBucket, key); err != nil {
			t.Fatalf("Delete %s: %v", key, err)
		}
	}
	if err := e.st.Delete(ctx, dstBucket, "tables/t/_manifest.json"); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
	if listed, err := e.st.ListKeys(ctx, dstBucket, "tables/"); err != nil || len(listed) != 0 {
		t.Errorf("after Delete, ListKeys = %v, %v", listed, err)
	}
	if _, err := e.st.Get(ctx, dstBucket, "tables/t/_manifest.json"); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, s3store.ErrChanged) {
		t.Errorf("Get of a missing key: %v, want fs.ErrNotExist", err)
	}
}

// TestPutChecksSize: a body of another size than announced is refused and
// leaves nothing behind, in one PUT or in a multipart upload.
func TestPutChecksSize(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s3store.SetPartSize(e.st, 5<<20)
	tests := []struct {
		name       string
		body, size int64
	}{
		{"short single", 10, 20},
		{"long single", 20, 10},
		{"short multipart", 6 << 20, 11 << 20},
		{"long multipart", 11 << 20, 6 << 20},
	}
	for _, tc := range tests {
		key := "check/" + strings.ReplaceAll(tc.name, " ", "-")
		err := e.st.Put(ctx, dstBucket, key, bytes.NewReader(make([]byte, tc.body)), tc.size)
		if err == nil || !strings.Contains(err.Error(), "s3://dst/"+key) {
			t.Errorf("%s: Put = %v, want an error naming the object", tc.name, err)
		}
	}
	if listed, err := e.st.ListKeys(ctx, dstBucket, "check/"); err != nil || len(listed) != 0 {
		t.Errorf("failed Puts left %v (%v)", listed, err)
	}
	if n := countOps(e.srv.AccessLog(t), dstBucket, "AbortMultipartUpload"); n != 2 {
		t.Errorf("%d AbortMultipartUpload requests, want 2", n)
	}
}

// TestErrorsNeverHoldSecrets collects errors of every kind a real server
// gives and checks that neither they nor the server's log hold the secret.
func TestErrorsNeverHoldSecrets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.srv.SecretAccessKey
	src := e.srv.Put(t, srcBucket, "k", []byte("v1"))
	e.srv.Put(t, srcBucket, "k", []byte("v2"))

	badCfg := e.srv.Config()
	badCfg.SecretAccessKey = "wrong-" + secret
	bad, err := s3store.New(ctx, badCfg)
	if err != nil {
		t.Fatal(err)
	}

	var errs []error
	add := func(err error) {
		if err == nil {
			t.Errorf("expected an error (#%d)", len(errs))
		}
		errs = append(errs, err)
	}
	_, err = e.st.Object(src).Open(ctx)
	add(err)
	_, err = e.st.Object(src).ReadAt(ctx, make([]byte, 1), 0)
	add(err)
	add(e.st.List(ctx, "missing-bucket", "", "", func([]messages.Source) error { return nil }))
	_, err = e.st.Get(ctx, dstBucket, "missing")
	add(err)
	add(e.st.Put(ctx, "missing-bucket", "k", bytes.NewReader([]byte("x")), 1))
	add(bad.List(ctx, srcBucket, "", "", func([]messages.Source) error { return nil }))
	_, err = bad.Object(src).Open(ctx)
	add(err)
	add(bad.Put(ctx, dstBucket, "k", bytes.NewReader([]byte("x")), 1))
	for _, err := range errs {
		if err == nil {
			continue
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(s, secret) {
				t.Errorf("error holds the secret: %s", s)
			}
		}
	}
	for _, err := range errs[5:] {
		if err != nil && s3store.IsTransient(err) {
			t.Errorf("bad credentials reported as transient: %v", err)
		}
	}
	for _, en := range e.srv.AccessLog(t) {
		if strings.Contains(en.Raw, secret) {
			t.Errorf("access log holds the secret: %s", en.Raw)
		}
	}
}

// OpenAt streams an object from an offset, pinned to its listed ETag.
func TestOpenAt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	if err := e.st.Put(ctx, dstBucket, "big/data.csv", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	var src messages.Source
	if err := e.st.List(ctx, dstBucket, "big/", "", func(page []messages.Source) error { src = page[0]; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 1, 1 << 20, int64(len(data)) - 1, int64(len(data))} {
		rc, err := e.st.Object(src).OpenAt(ctx, off)
		if err != nil {
			t.Fatalf("OpenAt %d: %v", off, err)
		}
		got, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil || !bytes.Equal(got, data[off:]) {
			t.Fatalf("OpenAt %d: %d bytes, %v; want the %d bytes from there", off, len(got), err, len(data)-int(off))
		}
	}
	stale := src
	stale.ETag = "0123456789abcdef0123456789abcdef"
	if _, err := e.st.Object(stale).OpenAt(ctx, 5); !errors.Is(err, s3store.ErrChanged) {
		t.Fatalf("OpenAt with a stale ETag: %v, want ErrChanged", err)
	}
}
