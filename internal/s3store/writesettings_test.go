package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
)

// proxiedEnv is newEnv with a recording proxy between the store and
// versitygw.
func proxiedEnv(t *testing.T, write s3store.WriteSettings, quickRetry bool) (*env, *recordingProxy) {
	t.Helper()
	srv := testenv.Versity(t)
	srv.CreateBucket(t, srcBucket)
	srv.CreateBucket(t, dstBucket)
	p := newRecordingProxy(t, srv.Endpoint)
	cfg := srv.Config()
	cfg.Endpoint = p.endpoint
	cfg.Write = write
	newStore := s3store.New
	if quickRetry {
		newStore = s3store.NewQuickRetry
	}
	st, err := newStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, st: st}, p
}

var writeHeaders = []string{"X-Amz-Acl", "X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"}

// TestWriteSettingsOnEveryWrite: every request that creates an object
// (PutObject, the conditional puts, CreateMultipartUpload) carries the
// ACL and encryption headers, and no other request carries any.
// versitygw accepts the headers (it ignores the encryption ones), so the
// writes succeed end to end.
func TestWriteSettingsOnEveryWrite(t *testing.T) {
	tests := []struct {
		name  string
		write s3store.WriteSettings
		want  map[string]string
	}{
		{"acl and sse-s3", s3store.WriteSettings{ACL: "bucket-owner-full-control", SSE: "AES256"},
			map[string]string{"X-Amz-Acl": "bucket-owner-full-control", "X-Amz-Server-Side-Encryption": "AES256"}},
		{"kms key", s3store.WriteSettings{SSE: "aws:kms", SSEKMSKeyID: "arn:aws:kms:eu-west-1:111122223333:key/k1"},
			map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "arn:aws:kms:eu-west-1:111122223333:key/k1"}},
		{"none", s3store.WriteSettings{}, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, p := proxiedEnv(t, tc.write, false)
			ctx := context.Background()
			const partSize = 5 << 20
			s3store.SetPartSize(e.st, partSize)
			big := bytes.Repeat([]byte("0123456789abcdef"), (partSize+100)/16)
			if err := e.st.Put(ctx, dstBucket, "t/small", bytes.NewReader([]byte("small")), 5); err != nil {
				t.Fatal(err)
			}
			if err := e.st.Put(ctx, dstBucket, "t/big", bytes.NewReader(big), int64(len(big))); err != nil {
				t.Fatal(err)
			}
			etag, err := e.st.PutIfAbsent(ctx, dstBucket, "t/_manifest", []byte("v1"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.st.PutIfMatch(ctx, dstBucket, "t/_manifest", []byte("v2"), etag); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.st.GetWithETag(ctx, dstBucket, "t/_manifest"); err != nil {
				t.Fatal(err)
			}
			if got, err := e.st.Get(ctx, dstBucket, "t/big"); err != nil || !bytes.Equal(got, big) {
				t.Fatalf("Get: %d bytes, %v", len(got), err)
			}
			if _, err := e.st.ListKeys(ctx, dstBucket, "t/"); err != nil {
				t.Fatal(err)
			}
			if err := e.st.Delete(ctx, dstBucket, "t/small"); err != nil {
				t.Fatal(err)
			}

			writes := map[string]int{}
			for _, r := range p.requests() {
				op := r.operation()
				creates := op == "PutObject" || op == "CreateMultipartUpload"
				if creates {
					writes[op]++
				}
				for _, h := range writeHeaders {
					want := ""
					if creates {
						want = tc.want[h]
					}
					if got := r.header.Get(h); got != want {
						t.Errorf("%s %s: %s = %q, want %q", op, r.path, h, got, want)
					}
				}
			}
			if writes["PutObject"] != 3 || writes["CreateMultipartUpload"] != 1 {
				t.Errorf("writes seen: %v, want 3 PutObject and 1 CreateMultipartUpload", writes)
			}
		})
	}
}

func TestNewRejectsBadWriteSettings(t *testing.T) {
	const keyID = "arn:aws:kms:eu-west-1:111122223333:key/never-in-errors"
	tests := []struct {
		name  string
		write s3store.WriteSettings
		want  string
	}{
		{"unknown acl", s3store.WriteSettings{ACL: "bucket-owner-full"}, "canned ACL"},
		{"unknown sse", s3store.WriteSettings{SSE: "aws:fsx"}, "server-side encryption"},
		{"kms key without kms", s3store.WriteSettings{SSE: "AES256", SSEKMSKeyID: keyID}, "KMS key id"},
		{"kms key alone", s3store.WriteSettings{SSEKMSKeyID: keyID}, "KMS key id"},
	}
	for _, tc := range tests {
		_, err := s3store.New(context.Background(), s3store.Config{Region: "r", Write: tc.write})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error about the %s", tc.name, err, tc.want)
		} else if strings.Contains(err.Error(), keyID) {
			t.Errorf("%s: error repeats the KMS key id: %v", tc.name, err)
		}
	}
	for _, w := range []s3store.WriteSettings{
		{ACL: "private"}, {ACL: "bucket-owner-read", SSE: "aws:kms:dsse", SSEKMSKeyID: keyID}, {SSE: "aws:kms"},
	} {
		if _, err := s3store.New(context.Background(), s3store.Config{Region: "r", Write: w}); err != nil {
			t.Errorf("New(%+v) = %v", w, err)
		}
	}
}

// TestConfigKeepsKMSKeyOut: the KMS key id is no secret, but neither
// String nor the log value repeats it; the ACL and encryption show.
func TestConfigKeepsKMSKeyOut(t *testing.T) {
	const keyID = "arn:aws:kms:eu-west-1:111122223333:key/kept-out"
	cfg := s3store.Config{Region: "r", Write: s3store.WriteSettings{ACL: "bucket-owner-full-control", SSE: "aws:kms", SSEKMSKeyID: keyID}}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "config", cfg)
	for _, out := range []string{cfg.String(), fmt.Sprintf("%+v", cfg), logged.String()} {
		if strings.Contains(out, keyID) {
			t.Errorf("KMS key id printed: %s", out)
		}
		if !strings.Contains(out, "bucket-owner-full-control") || !strings.Contains(out, "aws:kms") {
			t.Errorf("ACL or encryption missing: %s", out)
		}
	}
}
