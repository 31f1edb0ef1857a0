package s3store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
)

// SamplePrefix counts up to its limit in one listing and says when there
// are more (what `s3load check` prints as "1000+").
func TestSamplePrefix(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.srv.Put(t, srcBucket, fmt.Sprintf("p/%d.csv", i), []byte("x"))
	}
	// A folder marker and an empty file before the first file: the file
	// is what check reads.
	e.srv.Put(t, srcBucket, "m/", nil)
	e.srv.Put(t, srcBucket, "m/a-empty.csv", nil)
	e.srv.Put(t, srcBucket, "m/b.csv", []byte("x"))
	tests := []struct {
		prefix string
		limit  int
		want   s3store.PrefixSample
	}{
		{"p/", 2, s3store.PrefixSample{Count: 2, More: true, First: "p/0.csv"}},
		{"p/", 3, s3store.PrefixSample{Count: 3, First: "p/0.csv"}},
		{"p/", 1000, s3store.PrefixSample{Count: 3, First: "p/0.csv"}},
		{"q/", 1000, s3store.PrefixSample{}},
		{"m/", 1000, s3store.PrefixSample{Count: 3, First: "m/b.csv"}},
	}
	for _, tt := range tests {
		got, err := e.st.SamplePrefix(context.Background(), srcBucket, tt.prefix, tt.limit)
		if err != nil || got != tt.want {
			t.Errorf("SamplePrefix(%q, %d) = %+v, %v; want %+v", tt.prefix, tt.limit, got, err, tt.want)
		}
	}
}
