package s3store_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
)

const fakeSecret = "fake-secret-0123456789abcdef"

// fakeS3 serves handler as an S3 endpoint and returns a store for it with
// retries off.
func fakeS3(t *testing.T, handler http.HandlerFunc) *s3store.Store {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	st, err := s3store.NewNoRetry(context.Background(), s3store.Config{
		Region: "us-east-1", Endpoint: srv.URL, PathStyle: true,
		AccessKeyID: "AKFAKE", SecretAccessKey: fakeSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// s3Error writes an S3 XML error response.
func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>test</Message><RequestId>r</RequestId></Error>`, code)
}
