package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/s3load/s3load/messages"
)

// scriptedProber fails each file's first fails[key] probes, with a bad-file
// error where bad[key], and then returns the schema "schema of <key>".
type scriptedProber struct {
	mu    sync.Mutex
	fails map[string]int
	bad   map[string]bool
	tries map[string]int
}

func (p *scriptedProber) ProbeSchema(_ context.Context, _ string, src messages.Source) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tries[src.Key]++
	switch {
	case p.bad[src.Key]:
		return nil, BadFile(fmt.Errorf("reading %s: not a CSV file", src.Key))
	case p.tries[src.Key] <= p.fails[src.Key]:
		return nil, fmt.Errorf("reading %s: connection reset by peer", src.Key)
	}
	return []byte("schema of " + src.Key), nil
}

// TestSchemaProbe: every file is probed; a probe that fails for a passing
// reason is tried again (a flaky store must not leave a table of good
// files "unreadable"), a bad file is tried once and rejected, and a file
// that keeps failing is loaded without a say in the schema.
func TestSchemaProbe(t *testing.T) {
	tests := []struct {
		name       string
		fails      map[string]int
		bad        map[string]bool
		wantTries  map[string]int
		wantSchema string
	}{
		{"reset twice, then read", map[string]int{"t/0.csv": 2}, nil, map[string]int{"t/0.csv": 3, "t/1.csv": 1}, "schema of t/0.csv"},
		{"bad file, next one read", nil, map[string]bool{"t/0.csv": true}, map[string]int{"t/0.csv": 1, "t/1.csv": 1}, "schema of t/1.csv"},
		{"keeps failing, next one read", map[string]int{"t/0.csv": 100}, nil, map[string]int{"t/0.csv": probeTries, "t/1.csv": 1}, "schema of t/1.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newOutageState(false)
			files := pageLister{
				{Bucket: "b", Key: "t/0.csv", ETag: "e", Size: 100},
				{Bucket: "b", Key: "t/1.csv", ETag: "e", Size: 100},
			}
			prober := &scriptedProber{fails: tt.fails, bad: tt.bad, tries: map[string]int{}}
			com := &countingCommitter{}
			rep := runCommitted(t, Config{Job: "j", Bucket: "b", Tables: []Table{{Name: "t", Prefix: "t/"}}, MaxFailedFiles: len(tt.bad)},
				ports(files, prober, st, com))
			if fmt.Sprint(prober.tries) != fmt.Sprint(tt.wantTries) {
				t.Errorf("probes per file %v, want %v", prober.tries, tt.wantTries)
			}
			if rep.Tables[0].Failed != len(tt.bad) {
				t.Errorf("%d files failed, want the %d bad ones", rep.Tables[0].Failed, len(tt.bad))
			}
			if string(com.schema) != tt.wantSchema {
				t.Errorf("table committed with schema %q, want %q", com.schema, tt.wantSchema)
			}
		})
	}
}

func TestBadFileKeepsItsMessage(t *testing.T) {
	inner := errors.New("reading s3://b/k: not parquet")
	err := fmt.Errorf("probing: %w", BadFile(inner))
	if !errors.Is(err, ErrBadFile) || !errors.Is(err, inner) || err.Error() != "probing: reading s3://b/k: not parquet" {
		t.Fatalf("BadFile: %q, Is(ErrBadFile)=%v, Is(inner)=%v", err, errors.Is(err, ErrBadFile), errors.Is(err, inner))
	}
}
