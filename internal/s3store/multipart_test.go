package s3store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3load/s3load/internal/s3store"
)

// TestMultipartRetriesAPart: a 40 MiB object goes up in 5 parts; part 3
// fails. A passing failure (a 503, a dropped connection) is retried on
// its own, and the object ends complete and exact from one upload. A
// failure that never passes fails the Put after the client's attempts,
// leaves no object and aborts the upload.
func TestMultipartRetriesAPart(t *testing.T) {
	const (
		partSize = 8 << 20
		size     = 40 << 20
	)
	data := make([]byte, size)
	rand.Read(data)
	tests := []struct {
		name      string
		fault     fault
		times     int // how many of part 3's attempts fail; -1 = all
		wantTries int
	}{
		{"503 once", slowDown, 1, 2},
		{"503 twice", slowDown, 2, 3},
		{"dropped connection", drop, 1, 2},
		{"503 always", slowDown, -1, s3store.MaxAttempts},
		{"dropped always", drop, -1, s3store.MaxAttempts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, p := proxiedEnv(t, s3store.WriteSettings{}, true)
			ctx := context.Background()
			s3store.SetPartSize(e.st, partSize)
			failed := 0
			p.setFault(func(r *http.Request) fault {
				if !isPart("3")(r) || tc.times >= 0 && failed >= tc.times {
					return pass
				}
				failed++
				return tc.fault
			})
			err := e.st.Put(ctx, dstBucket, "t/big.parquet", onlyReader{bytes.NewReader(data)}, size)

			ops := map[string]int{}
			parts := map[string]int{}
			for _, r := range p.requests() {
				ops[r.operation()]++
				if r.operation() == "UploadPart" {
					parts[r.query.Get("partNumber")]++
				}
			}
			t.Logf("Put: %v; requests %v, UploadPart per part %v", err, ops, parts)
			if ops["CreateMultipartUpload"] != 1 {
				t.Errorf("%d uploads created, want 1: a failed part restarts nothing", ops["CreateMultipartUpload"])
			}
			if parts["3"] != tc.wantTries {
				t.Errorf("part 3 sent %d times, want %d", parts["3"], tc.wantTries)
			}
			for _, n := range []string{"1", "2"} {
				if parts[n] != 1 {
					t.Errorf("part %s sent %d times, want 1", n, parts[n])
				}
			}

			if tc.times >= 0 {
				if err != nil {
					t.Fatalf("Put with part 3 failing %d times: %v", tc.times, err)
				}
				if parts["4"] != 1 || parts["5"] != 1 || ops["CompleteMultipartUpload"] != 1 || ops["AbortMultipartUpload"] != 0 {
					t.Errorf("requests %v, parts %v: want every part once more and one completion", ops, parts)
				}
				got, err := e.st.Get(ctx, dstBucket, "t/big.parquet")
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("Get: %d bytes, %v; want the %d bytes put", len(got), err, size)
				}
				return
			}
			if err == nil || !s3store.IsTransient(err) {
				t.Fatalf("Put with part 3 always failing: %v, want a transient error", err)
			}
			if parts["4"] != 0 || ops["CompleteMultipartUpload"] != 0 || ops["AbortMultipartUpload"] != 1 {
				t.Errorf("requests %v, parts %v: want no part after 3, no completion, one abort", ops, parts)
			}
			if _, err := e.st.Get(ctx, dstBucket, "t/big.parquet"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Get after a failed Put: %v, want fs.ErrNotExist", err)
			}
			if ups := listUploads(t, e); len(ups) != 0 {
				t.Errorf("multipart uploads left behind: %v", ups)
			}
		})
	}
}

// listUploads lists the target bucket's unfinished multipart uploads,
// straight from versitygw.
func listUploads(t *testing.T, e *env) []string {
	t.Helper()
	client := s3.New(s3.Options{
		Region:       e.srv.Region,
		BaseEndpoint: aws.String(e.srv.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(e.srv.AccessKeyID, e.srv.SecretAccessKey, ""),
	})
	out, err := client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(dstBucket)})
	if err != nil {
		t.Fatalf("listing multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return keys
}
