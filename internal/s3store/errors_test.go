package s3store_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/messages"
)

// TestErrorClassification drives every read path through the real SDK
// against a server answering with one error, and checks what callers can
// branch on.
func TestErrorClassification(t *testing.T) {
	tests := []struct {
		status    int
		code      string
		changed   bool
		throttled bool
		transient bool
	}{
		{http.StatusPreconditionFailed, "PreconditionFailed", true, false, false},
		{http.StatusNotFound, "NoSuchKey", true, false, false},
		{http.StatusServiceUnavailable, "SlowDown", false, true, true},
		{http.StatusTooManyRequests, "TooManyRequests", false, true, true},
		{http.StatusBadRequest, "Throttling", false, true, true},
		{http.StatusInternalServerError, "InternalError", false, false, true},
		{http.StatusBadGateway, "BadGateway", false, false, true},
		{http.StatusBadRequest, "RequestTimeout", false, false, true},
		{http.StatusForbidden, "AccessDenied", false, false, false},
		{http.StatusForbidden, "SignatureDoesNotMatch", false, false, false},
		{http.StatusNotFound, "NoSuchBucket", false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			st := fakeS3(t, func(w http.ResponseWriter, r *http.Request) { s3Error(w, tc.status, tc.code) })
			ctx := context.Background()
			obj := st.Object(messages.Source{Bucket: "b", Key: "k", ETag: "e", Size: 10})
			_, openErr := obj.Open(ctx)
			_, readErr := obj.ReadAt(ctx, make([]byte, 4), 2)
			_, openAtErr := obj.OpenAt(ctx, 3)
			for name, err := range map[string]error{"Open": openErr, "ReadAt": readErr, "OpenAt": openAtErr} {
				check(t, name, err, tc.changed, tc.throttled, tc.transient)
				if !strings.Contains(err.Error(), "s3://b/k") {
					t.Errorf("%s: error does not name the object: %v", name, err)
				}
			}
			// The target side never reports ErrChanged: a missing key there
			// is just missing.
			_, getErr := st.Get(ctx, "b", "k")
			check(t, "Get", getErr, false, tc.throttled, tc.transient)
			listErr := st.List(ctx, "b", "", "", func([]messages.Source) error { return nil })
			check(t, "List", listErr, false, tc.throttled, tc.transient)
		})
	}
}

func check(t *testing.T, op string, err error, changed, throttled, transient bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", op)
	}
	if got := errors.Is(err, s3store.ErrChanged); got != changed {
		t.Errorf("%s: Is(ErrChanged) = %v, want %v: %v", op, got, changed, err)
	}
	if got := errors.Is(err, s3store.ErrThrottled); got != throttled {
		t.Errorf("%s: Is(ErrThrottled) = %v, want %v: %v", op, got, throttled, err)
	}
	if got := s3store.IsTransient(err); got != transient {
		t.Errorf("%s: IsTransient = %v, want %v: %v", op, got, transient, err)
	}
	if strings.Contains(err.Error(), fakeSecret) {
		t.Errorf("%s: error holds the secret: %v", op, err)
	}
}

func TestIsTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"truncated", s3store.ErrTruncated, true},
		{"wrapped truncated", errors.Join(errors.New("x"), s3store.ErrTruncated), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"deadline", context.DeadlineExceeded, true},
		{"canceled", context.Canceled, false},
		{"changed", s3store.ErrChanged, false},
		{"plain", errors.New("bad config"), false},
	}
	for _, tc := range tests {
		if got := s3store.IsTransient(tc.err); got != tc.want {
			t.Errorf("%s: IsTransient = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestConnectionErrorsAreTransient: a server that drops the connection
// without answering, as a crashing store or a reset would.
func TestConnectionErrorsAreTransient(t *testing.T) {
	st := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, err := st.Object(messages.Source{Bucket: "b", Key: "k", ETag: "e", Size: 10}).Open(context.Background())
	check(t, "Open", err, false, false, true)
}
