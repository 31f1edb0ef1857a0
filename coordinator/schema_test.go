package coordinator

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

// kindProber answers each file's probe by the file's name: "empty" gives
// no rows, "bad" is a bad file, "denied" a permanent store error, anything
// else a schema.
type kindProber struct {
	mu    sync.Mutex
	tries map[string]int
}

func (p *kindProber) ProbeSchema(_ context.Context, _ string, src messages.Source) ([]byte, error) {
	p.mu.Lock()
	p.tries[src.Key]++
	p.mu.Unlock()
	switch {
	case strings.Contains(src.Key, "empty"):
		return nil, NoRows(fmt.Errorf("%s: no JSON object", src.Key))
	case strings.Contains(src.Key, "bad"):
		return nil, BadFile(fmt.Errorf("%s: not JSON", src.Key))
	case strings.Contains(src.Key, "denied"):
		return nil, fmt.Errorf("getting %s: %w", src.Key, errDenied)
	}
	return []byte("schema of " + src.Key), nil
}

// TestPreflightAccountsForFiles: every file is probed once; files without
// rows neither give a schema nor count as bad; unreadable files are
// rejected before loading; when no file gives a schema, every file is
// accounted for and the error says why.
func TestPreflightAccountsForFiles(t *testing.T) {
	tests := []struct {
		name         string
		keys         []string
		allowEmpty   bool
		wantSchema   string
		wantFailed   []string
		wantRejected []string
		wantErr      string
	}{
		{name: "empty files, then a good one", keys: []string{"t/0-empty", "t/1-empty", "t/2-good"}, wantSchema: "schema of t/2-good"},
		{name: "a bad file beside a good one is rejected", keys: []string{"t/0-bad", "t/1-good"}, wantSchema: "schema of t/1-good",
			wantRejected: []string{"t/0-bad"}},
		{name: "all empty", keys: []string{"t/0-empty", "t/1-empty", "t/2-empty"},
			wantFailed: []string{"t/0-empty", "t/1-empty", "t/2-empty"}, wantErr: "all 3 files are empty"},
		{name: "all empty, allow_empty", keys: []string{"t/0-empty"}, allowEmpty: true,
			wantFailed: []string{"t/0-empty"}, wantErr: "all 1 files are empty (allow_empty"},
		{name: "one bad", keys: []string{"t/0-bad"}, wantFailed: []string{"t/0-bad"}, wantErr: "none of the 1 files could be read"},
		{name: "three bad", keys: []string{"t/0-bad", "t/1-bad", "t/2-bad"},
			wantFailed: []string{"t/0-bad", "t/1-bad", "t/2-bad"}, wantErr: "none of the 3 files could be read"},
		{name: "bad and empty", keys: []string{"t/0-bad", "t/1-empty"},
			wantFailed: []string{"t/0-bad", "t/1-empty"}, wantErr: "1 of the files could not be read and 1 are empty"},
		{name: "a file denied is rejected, not the table", keys: []string{"t/0-bad", "t/1-denied", "t/2-good"},
			wantSchema: "schema of t/2-good", wantRejected: []string{"t/0-bad", "t/1-denied"}},
		{name: "no file", keys: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files pageLister
			for _, k := range tt.keys {
				files = append(files, messages.Source{Bucket: "b", Key: k, ETag: "e", Size: 10})
			}
			prober := &kindProber{tries: map[string]int{}}
			table := Table{Name: "t", Prefix: "t/", AllowEmpty: tt.allowEmpty}
			c, err := New(Config{Job: "j", Bucket: "b", Tables: []Table{table}, RetryFor: time.Second},
				ports(files, prober, newOutageState(false), &countingCommitter{}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			schema, pf, failures, err := c.preflight(ctx, "l", table, c.cfg.Logger, nil)
			if string(schema) != tt.wantSchema {
				t.Errorf("schema %q, want %q", schema, tt.wantSchema)
			}
			if fmt.Sprint(keysOf(failures)) != fmt.Sprint(tt.wantFailed) {
				t.Errorf("failures %v, want %v", keysOf(failures), tt.wantFailed)
			}
			var rejected []messages.ManifestFailure
			if pf != nil {
				rejected = pf.Rejected
				if pf.Files != len(tt.keys) {
					t.Errorf("pre-flight of %d files, want %d", pf.Files, len(tt.keys))
				}
			}
			if fmt.Sprint(keysOf(rejected)) != fmt.Sprint(tt.wantRejected) {
				t.Errorf("rejected %v, want %v", keysOf(rejected), tt.wantRejected)
			}
			for _, f := range append(failures, rejected...) {
				if f.State != messages.StateFailed || f.Error == "" {
					t.Errorf("failure %+v lacks its state or error", f)
				}
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err %v, want one containing %q", err, tt.wantErr)
			}
			for k, n := range prober.tries {
				if n != 1 {
					t.Errorf("%s probed %d times, want once", k, n)
				}
			}
		})
	}
}

func keysOf(fs []messages.ManifestFailure) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Source.Key)
	}
	return out
}
