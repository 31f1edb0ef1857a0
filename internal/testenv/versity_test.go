package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/versity"
	"github.com/s3load/s3load/messages"
)

func TestVersity(t *testing.T) {
	s := Versity(t)
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") || s.AccessKeyID == "" || s.SecretAccessKey == "" {
		t.Fatalf("server %+v", s)
	}
	s.CreateBucket(t, "bkt")
	put := s.Put(t, "bkt", "dir/k ü.csv", []byte("hello"))
	if put.Bucket != "bkt" || put.Key != "dir/k ü.csv" || put.Size != 5 || put.ETag == "" || strings.Contains(put.ETag, `"`) {
		t.Fatalf("Put returned %+v", put)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "bkt", "dir", "k ü.csv")); err != nil {
		t.Errorf("object not in the backend directory: %v", err)
	}

	st, err := s3store.New(context.Background(), s.Config())
	if err != nil {
		t.Fatal(err)
	}
	listed, err := st.ListKeys(context.Background(), "bkt", "")
	if err != nil || len(listed) != 1 || listed[0] != put {
		t.Fatalf("listed %v (%v), Put returned %v", listed, err, put)
	}
	s.Delete(t, "bkt", put.Key)
	if listed, err := st.ListKeys(context.Background(), "bkt", ""); err != nil || len(listed) != 0 {
		t.Fatalf("after Delete: %v (%v)", listed, err)
	}

	var ops []string
	for _, e := range s.AccessLog(t) {
		if e.Bucket == "" {
			continue // the readiness probe
		}
		if e.Requester != s.AccessKeyID || e.Bucket != "bkt" || e.Status != 200 || e.ErrorCode != "" {
			t.Errorf("unexpected entry %+v", e)
		}
		ops = append(ops, e.Operation+" "+e.Key)
	}
	want := []string{"CreateBucket ", "PutObject dir/k ü.csv", "ListObjectsV2 ", "DeleteObject dir/k ü.csv", "ListObjectsV2 "}
	if fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Errorf("access log operations\n%q\nwant\n%q", ops, want)
	}
}

func TestServersAreIndependent(t *testing.T) {
	a, b := Versity(t), Versity(t)
	if a.Endpoint == b.Endpoint || a.AccessKeyID == b.AccessKeyID || a.SecretAccessKey == b.SecretAccessKey || a.Dir == b.Dir {
		t.Fatalf("servers share settings: %+v %+v", a, b)
	}
	a.CreateBucket(t, "only-a")
	cfg := b.Config()
	cfg.AccessKeyID, cfg.SecretAccessKey = a.AccessKeyID, a.SecretAccessKey
	st, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.List(context.Background(), "only-a", "", "", func([]messages.Source) error { return nil }); err == nil {
		t.Fatal("server b accepted server a's credentials")
	}
}

func TestModuleRoot(t *testing.T) {
	root := ModuleRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(data), "module github.com/s3load/s3load") {
		t.Fatalf("ModuleRoot = %s: %v", root, err)
	}
}

// fatalTB records Fatalf and Skip instead of acting on the real test.
type fatalTB struct {
	testing.TB
	fatal, skipped string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fatalTB) Skip(args ...any) { f.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (f *fatalTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fatalTB) SkipNow() { f.skipped = "SkipNow"; runtime.Goexit() }

// TestMissingBinaryFails: without versitygw the test fails, it never skips.
func TestMissingBinaryFails(t *testing.T) {
	t.Setenv(BinaryEnv, filepath.Join(t.TempDir(), "no-versitygw"))
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Versity(tb)
	}()
	<-done
	if tb.skipped != "" {
		t.Fatalf("skipped: %s", tb.skipped)
	}
	if !strings.Contains(tb.fatal, "versitygw not found: run `make tools`") {
		t.Fatalf("Fatalf message %q", tb.fatal)
	}
}

// TestVersityTLS: the server speaks HTTPS with a certificate only its
// CertFile vouches for.
func TestVersityTLS(t *testing.T) {
	s := VersityTLS(t)
	if !strings.HasPrefix(s.Endpoint, "https://127.0.0.1:") || s.CertFile == "" {
		t.Fatalf("server %+v", s)
	}
	s.CreateBucket(t, "bkt") // through a client that trusts CertFile
	s.Put(t, "bkt", "k", []byte("hello"))

	client, err := versity.TLSClient(s.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(s.Endpoint + "/bkt/k")
	if err != nil {
		t.Fatalf("GET with the certificate trusted: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden { // unsigned, but served
		t.Errorf("GET answered %s", resp.Status)
	}
	if _, err := http.Get(s.Endpoint); err == nil {
		t.Fatal("a client with the system's authorities accepted the self-signed certificate")
	}
}
