package pipeline

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/worker"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want worker.Kind
	}{
		{"etag changed", fmt.Errorf("getting s3://b/k: %w", s3store.ErrChanged), worker.Changed},
		{"throttled", fmt.Errorf("getting s3://b/k: %w", s3store.ErrThrottled), worker.Throttled},
		{"truncated body", fmt.Errorf("reading: %w", s3store.ErrTruncated), worker.Transient},
		{"bad data", &decode.DataError{File: "s3://b/k", Line: 3, Err: errors.New("ragged")}, worker.Permanent},
		{"schema", &decode.SchemaError{File: "s3://b/k"}, worker.Permanent},
		{"table not configured", fmt.Errorf("x: %w", errConfig), worker.Permanent},
		{"access denied", fmt.Errorf("getting s3://b/k: %w", &s3store.Error{Kind: s3store.ErrAccessDenied, Code: "AccessDenied"}), worker.Permanent},
		{"credentials rejected", fmt.Errorf("getting s3://b/k: %w", &s3store.Error{Kind: s3store.ErrAuth, Code: "InvalidAccessKeyId"}), worker.Permanent},
		{"target disk full", fmt.Errorf("writing part: %w", target.ErrNoSpace), worker.Permanent},
		{"target read-only", fmt.Errorf("writing part: %w", target.ErrNotWritable), worker.Permanent},
		{"temp space: the part alone is too big", fmt.Errorf("writing part: %w", &tempspace.FullError{Max: 10, Want: 20, Alone: true}), worker.Permanent},
		{"temp space: held by other files", fmt.Errorf("writing part: %w", &tempspace.FullError{Max: 10, Used: 8, Want: 5}), worker.Transient},
		{"endpoint unreachable mid-load", fmt.Errorf("getting s3://b/k: %w", &s3store.Error{Kind: s3store.ErrUnreachable}), worker.Transient},
		{"stopped", context.Canceled, worker.Transient},
		{"anything else", errors.New("connection reset by peer"), worker.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err); got != tt.want {
				t.Fatalf("classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
