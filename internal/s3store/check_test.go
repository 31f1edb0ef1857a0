package s3store_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/internal/s3store"
)

func TestChecks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, k := range []string{"orders/2024/a.csv", "orders/2024/b.csv", "customers/c.csv", "readme.txt"} {
		e.srv.Put(t, srcBucket, k, []byte("data of "+k))
	}
	e.srv.Put(t, srcBucket, "empty.csv", nil)
	mark := e.logMark(t)

	info, err := e.st.CheckBucket(ctx, srcBucket)
	if err != nil || info != (s3store.BucketInfo{Region: "us-east-1", CredentialSource: "static"}) {
		t.Errorf("CheckBucket = %+v, %v", info, err)
	}
	if err := e.st.CheckACL(ctx, srcBucket); err != nil {
		t.Errorf("CheckACL: %v", err)
	}
	probes := []struct {
		prefix, first string
		found         bool
	}{
		{"orders/", "orders/2024/a.csv", true},
		{"", "customers/c.csv", true},
		{"order/", "", false},
	}
	for _, p := range probes {
		first, found, err := e.st.ProbePrefix(ctx, srcBucket, p.prefix)
		if err != nil || first != p.first || found != p.found {
			t.Errorf("ProbePrefix(%q) = %q, %v, %v; want %q, %v", p.prefix, first, found, err, p.first, p.found)
		}
	}
	suggestions := []struct{ prefix, want string }{
		{"order/", "orders/"},
		{"Orders/", "orders/"},
		{"orders/2023/", "orders/2024/"},
		{"orders/2023", "orders/2024"},
		{"custmers/", "customers/"},
		{"readme.md", "readme.txt"}, // 3 edits for 9 characters
		{"notes.md", ""},
		{"zzz/", ""},
		{"nothing/below/", ""},
		{"", ""},
	}
	for _, s := range suggestions {
		if got, err := e.st.SuggestPrefix(ctx, srcBucket, s.prefix); err != nil || got != s.want {
			t.Errorf("SuggestPrefix(%q) = %q, %v; want %q", s.prefix, got, err, s.want)
		}
	}
	for _, k := range []string{"orders/2024/a.csv", "empty.csv"} {
		if err := e.st.CheckRead(ctx, srcBucket, k); err != nil {
			t.Errorf("CheckRead(%q): %v", k, err)
		}
	}
	if err := e.st.CheckRead(ctx, srcBucket, "missing.csv"); !errors.Is(err, fs.ErrNotExist) || s3store.IsPermanent(err) {
		t.Errorf("CheckRead of a missing key: %v, want fs.ErrNotExist", err)
	}

	// The checks only read, and only what a Celonis S3 connection may.
	allowed := map[string]bool{"HeadBucket": true, "GetBucketAcl": true, "ListObjectsV2": true, "GetObject": true}
	for _, en := range e.logSince(t, mark) {
		if !allowed[en.Operation] || en.Bucket != srcBucket {
			t.Errorf("a check issued %s on %q: %s", en.Operation, en.Bucket, en.Raw)
		}
	}
}

// TestCheckBucketCredentialSource: the check says where the credentials
// came from when the configuration has none.
func TestCheckBucketCredentialSource(t *testing.T) {
	srv := seeded(t)
	cfg := srv.Config()
	cfg.AccessKeyID, cfg.SecretAccessKey = "", ""
	profile := filepath.Join(t.TempDir(), "credentials")
	err := os.WriteFile(profile, []byte("[default]\naws_access_key_id = "+srv.AccessKeyID+
		"\naws_secret_access_key = "+srv.SecretAccessKey+"\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  func(t *testing.T)
		want string
	}{
		{"environment", func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretAccessKey)
		}, "environment"},
		{"shared profile", func(t *testing.T) { t.Setenv("AWS_SHARED_CREDENTIALS_FILE", profile) }, "shared profile (" + profile + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			noCredentials(t)
			tc.env(t)
			st, err := s3store.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			info, err := st.CheckBucket(context.Background(), srcBucket)
			if err != nil || info.CredentialSource != tc.want {
				t.Errorf("CheckBucket = %+v, %v; want the source %q", info, err, tc.want)
			}
		})
	}
}

// TestCheckGivesUpOnSilentEndpoint: an endpoint that accepts connections
// and never answers fails a check within CheckTimeout, where the load's
// client would wait minutes.
func TestCheckGivesUpOnSilentEndpoint(t *testing.T) {
	addr := silentServer(t)
	st, err := s3store.New(context.Background(), s3store.Config{
		Region: "us-east-1", Endpoint: "http://" + addr, PathStyle: true, AccessKeyID: "AK", SecretAccessKey: fakeSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = st.CheckBucket(context.Background(), srcBucket)
	t.Logf("CheckBucket after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if !errors.Is(err, s3store.ErrUnreachable) || !strings.Contains(err.Error(), "no answer from http://"+addr+" within 5s") {
		t.Fatalf("CheckBucket: %v, want ErrUnreachable naming the endpoint", err)
	}
}

// silentServer accepts connections and reads them without ever answering,
// until the test ends.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return // the listener closed
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
