package s3store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
)

// env is one test's versitygw with a source and a target bucket.
type env struct {
	srv *testenv.S3Server
	st  *s3store.Store
}

const (
	srcBucket = "src"
	dstBucket = "dst"
)

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := testenv.Versity(t)
	srv.CreateBucket(t, srcBucket)
	srv.CreateBucket(t, dstBucket)
	st, err := s3store.New(context.Background(), srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, st: st}
}

// logMark returns how many requests the access log holds, so a test can
// look only at what came after.
func (e *env) logMark(t *testing.T) int { return len(e.srv.AccessLog(t)) }

func (e *env) logSince(t *testing.T, mark int) []testenv.AccessEntry {
	return e.srv.AccessLog(t)[mark:]
}

func countOps(entries []testenv.AccessEntry, bucket, op string) int {
	n := 0
	for _, e := range entries {
		if e.Bucket == bucket && e.Operation == op {
			n++
		}
	}
	return n
}

func TestListPaginatesInKeyOrder(t *testing.T) {
	e := newEnv(t)
	var want []messages.Source
	for _, k := range []string{"t/j", "t/a", "t/c.csv", "t/b b", "t/d/e", "t/é", "t/f.g.h", "t/0", "t/Z", "t/~"} {
		want = append(want, e.srv.Put(t, srcBucket, k, []byte("data of "+k)))
	}
	e.srv.Put(t, srcBucket, "u/outside", []byte("x"))
	slices.SortFunc(want, func(a, b messages.Source) int { return strings.Compare(a.Key, b.Key) })
	s3store.SetMaxKeys(e.st, 3)

	mark := e.logMark(t)
	var pages [][]messages.Source
	err := e.st.List(context.Background(), srcBucket, "t/", "", func(page []messages.Source) error {
		pages = append(pages, page)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var got []messages.Source
	for _, p := range pages {
		sizes = append(sizes, len(p))
		got = append(got, p...)
	}
	if !slices.Equal(sizes, []int{3, 3, 3, 1}) {
		t.Errorf("page sizes %v, want [3 3 3 1]", sizes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed\n%v\nwant\n%v", got, want)
	}
	if n := countOps(e.logSince(t, mark), srcBucket, "ListObjectsV2"); n != 4 {
		t.Errorf("%d ListObjectsV2 requests, want 4", n)
	}

	// A broken listing resumes after the last key handled.
	var rest []messages.Source
	if err := e.st.List(context.Background(), srcBucket, "t/", want[4].Key, func(page []messages.Source) error {
		rest = append(rest, page...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rest, want[5:]) {
		t.Errorf("listing after %q gave\n%v\nwant\n%v", want[4].Key, rest, want[5:])
	}
}

// TestListIsPipelined: the caller sees the first page before any later page
// is requested, and stopping there stops the listing.
func TestListIsPipelined(t *testing.T) {
	e := newEnv(t)
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		e.srv.Put(t, srcBucket, k, []byte(k))
	}
	s3store.SetMaxKeys(e.st, 2)
	stop := errors.New("stop")
	mark := e.logMark(t)
	calls := 0
	err := e.st.List(context.Background(), srcBucket, "", "", func(page []messages.Source) error {
		calls++
		if n := countOps(e.logSince(t, mark), srcBucket, "ListObjectsV2"); n != 1 {
			t.Errorf("first page handed over after %d list requests, want 1", n)
		}
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("List = %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("callback ran %d times, want 1", calls)
	}
	if n := countOps(e.logSince(t, mark), srcBucket, "ListObjectsV2"); n != 1 {
		t.Errorf("%d ListObjectsV2 requests, want 1", n)
	}
}

func TestListEmptyAndMissing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	err := e.st.List(ctx, srcBucket, "nothing/", "", func([]messages.Source) error {
		t.Error("callback called for an empty listing")
		return nil
	})
	if err != nil {
		t.Fatalf("empty listing: %v", err)
	}
	err = e.st.List(ctx, "no-such-bucket", "", "", func([]messages.Source) error { return nil })
	if err == nil || s3store.IsTransient(err) || !strings.Contains(err.Error(), "s3://no-such-bucket/") {
		t.Fatalf("missing bucket: %v; want a permanent error naming the bucket", err)
	}
}

// awkwardKeys are keys that must survive listing, signing and escaping.
var awkwardKeys = []string{
	"plain.csv",
	"with space.csv",
	"many.dots.in.name.csv",
	"unicode/ünïcødé-日本語.csv",
	"plus+amp&eq=semi;comma,.csv",
	"percent%20literal.csv",
	"question?hash#.csv",
	"deep/a/b/c.tsv",
}

func TestAwkwardKeysRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	want := map[string]messages.Source{}
	for _, k := range awkwardKeys {
		want[k] = e.srv.Put(t, srcBucket, k, []byte("content of "+k))
	}
	listed, err := e.st.ListKeys(ctx, srcBucket, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(awkwardKeys) {
		t.Errorf("listed %d objects, want %d: %v", len(listed), len(awkwardKeys), listed)
	}
	for _, src := range listed {
		if src != want[src.Key] {
			t.Errorf("listed %+v, put %+v", src, want[src.Key])
			continue
		}
		t.Run(src.Key, func(t *testing.T) {
			obj := e.st.Object(src)
			if obj.Name() != "s3://src/"+src.Key || obj.Size() != src.Size {
				t.Errorf("Name %q Size %d", obj.Name(), obj.Size())
			}
			body, err := obj.Open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(body)
			body.Close()
			if err != nil || string(data) != "content of "+src.Key {
				t.Fatalf("Open read %q, %v", data, err)
			}
			p := make([]byte, 7)
			if n, err := obj.ReadAt(ctx, p, 3); err != nil || string(p[:n]) != "tent of" {
				t.Fatalf("ReadAt read %q, %v", p[:n], err)
			}
		})
	}
}

func TestReadAt(t *testing.T) {
	e := newEnv(t)
	const data = "0123456789abcdef"
	obj := e.st.Object(e.srv.Put(t, srcBucket, "r.bin", []byte(data)))
	tests := []struct {
		off     int64
		len     int
		want    string
		wantEOF bool
	}{
		{0, 4, "0123", false},
		{5, 3, "567", false},
		{12, 4, "cdef", false},
		{0, 16, data, false},
		{14, 4, "ef", true},
		{0, 20, data, true},
		{16, 4, "", true},
		{40, 1, "", true},
		{3, 0, "", false},
	}
	for _, tc := range tests {
		p := make([]byte, tc.len)
		n, err := obj.ReadAt(context.Background(), p, tc.off)
		if got := string(p[:n]); got != tc.want {
			t.Errorf("ReadAt(len %d, off %d) read %q, want %q", tc.len, tc.off, got, tc.want)
		}
		if tc.wantEOF && err != io.EOF || !tc.wantEOF && err != nil {
			t.Errorf("ReadAt(len %d, off %d) err %v, want EOF %v", tc.len, tc.off, err, tc.wantEOF)
		}
	}
}

func TestOpenReadsWholeObject(t *testing.T) {
	e := newEnv(t)
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	body, err := e.st.Object(e.srv.Put(t, srcBucket, "big.bin", data)).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(data))
	}
}

// TestETagPinning: an object overwritten or deleted after it was listed is
// reported as changed, never read as its new version.
func TestETagPinning(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *env, key string)
	}{
		{"overwritten", func(e *env, key string) { e.srv.Put(t, srcBucket, key, []byte("new version, other etag")) }},
		{"deleted", func(e *env, key string) { e.srv.Delete(t, srcBucket, key) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			src := e.srv.Put(t, srcBucket, "pinned file.csv", []byte("old version"))
			obj := e.st.Object(src)
			if _, err := obj.ReadAt(ctx, make([]byte, 3), 0); err != nil {
				t.Fatalf("before the change: %v", err)
			}
			tc.change(e, src.Key)
			if _, err := obj.Open(ctx); !errors.Is(err, s3store.ErrChanged) || s3store.IsTransient(err) {
				t.Errorf("Open after change: %v, want ErrChanged", err)
			}
			if _, err := obj.ReadAt(ctx, make([]byte, 3), 2); !errors.Is(err, s3store.ErrChanged) {
				t.Errorf("ReadAt after change: %v, want ErrChanged", err)
			}
		})
	}
}

// TestSourceSeesOnlyReads: listing and reading a source bucket, including
// a read that finds the object changed, issues nothing but reads.
func TestSourceSeesOnlyReads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, k := range awkwardKeys {
		e.srv.Put(t, srcBucket, k, []byte("content of "+k))
	}
	stale := e.srv.Put(t, srcBucket, "stale.csv", []byte("v1"))
	e.srv.Put(t, srcBucket, "stale.csv", []byte("v2"))
	s3store.SetMaxKeys(e.st, 2)

	mark := e.logMark(t)
	read := map[string]bool{}
	err := e.st.List(ctx, srcBucket, "", "", func(page []messages.Source) error {
		for _, src := range page {
			obj := e.st.Object(src)
			body, err := obj.Open(ctx)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, body)
			body.Close()
			if err != nil {
				return err
			}
			if _, err := obj.ReadAt(ctx, make([]byte, 2), 0); err != nil {
				return err
			}
			read[src.Key] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Object(stale).Open(ctx); !errors.Is(err, s3store.ErrChanged) {
		t.Fatalf("stale Open: %v", err)
	}

	allowed := map[string]bool{"ListObjectsV2": true, "GetObject": true, "HeadObject": true, "GetBucketAcl": true}
	entries := e.logSince(t, mark)
	gets := map[string]int{}
	for _, en := range entries {
		if en.Bucket != srcBucket {
			t.Errorf("request outside the source bucket: %s", en.Raw)
		}
		if !allowed[en.Operation] {
			t.Errorf("source bucket saw %s: %s", en.Operation, en.Raw)
		}
		if en.Operation == "GetObject" {
			gets[en.Key]++
		}
	}
	for _, k := range awkwardKeys {
		if !read[k] || gets[k] != 2 {
			t.Errorf("%q: read %v, %d GetObject requests logged, want 2", k, read[k], gets[k])
		}
	}
	if n := countOps(entries, srcBucket, "ListObjectsV2"); n != 5 {
		t.Errorf("%d ListObjectsV2 requests for 9 keys in pages of 2, want 5", n)
	}
}

// A whole-object GET is checked against the checksum the store sends with
// it (on faster hashes than the SDK's, see checksum.go): intact bytes pass,
// a flipped bit fails the read with ErrChecksum, not as a truncated or
// passing read.
func TestGetVerifiesChecksum(t *testing.T) {
	e := newEnv(t)
	proxy := testenv.NewProxy(t, e.srv.Endpoint)
	cfg := e.srv.Config()
	cfg.Endpoint = proxy.Endpoint
	st, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20+5)
	rand.Read(data)
	src := e.srv.Put(t, srcBucket, "sum.bin", data)
	read := func() ([]byte, error) {
		body, err := st.Object(src).Open(context.Background())
		if err != nil {
			return nil, err
		}
		defer body.Close()
		return io.ReadAll(body)
	}
	got, err := read()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("intact read: %d bytes, %v", len(got), err)
	}
	proxy.Corrupt(1, testenv.IsGet("sum.bin"))
	_, err = read()
	if !errors.Is(err, s3store.ErrChecksum) || s3store.IsTransient(err) {
		t.Fatalf("corrupted read: %v (transient %t), want ErrChecksum, permanent", err, s3store.IsTransient(err))
	}
	if !strings.Contains(err.Error(), "sum.bin") {
		t.Errorf("error %q does not name the object", err)
	}
	if proxy.Injected.Load() != 1 {
		t.Fatalf("the proxy corrupted %d responses, want 1", proxy.Injected.Load())
	}
}
