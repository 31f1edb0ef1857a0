package target

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/messages"
)

const fakeManifestKey = "tables/t/" + ManifestName

func openFake(t *testing.T, store *memStore, opts ...Option) *Target {
	t.Helper()
	tg, err := Open("s3://"+dstBucket+"/tables", store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestS3CommitRetries: the manifest PUT is the commit; one that fails
// transiently is retried, and one whose reply is lost is read back instead
// of failing the coordinator.
func TestS3CommitRetries(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "denied"}
	tests := []struct {
		name      string
		failPut   func(call int) (stored bool, err error)
		retry     time.Duration
		wantErr   error // nil: the commit succeeds
		wantPuts  int   // manifest PUTs; 0: not checked
		wantFinal bool  // the manifest is this load's afterwards
	}{
		{"a lost reply", func(int) (bool, error) { return true, errConnReset }, 5 * time.Second, nil, 1, true},
		{"fails twice then succeeds", func(call int) (bool, error) {
			if call <= 2 {
				return false, errConnReset
			}
			return false, nil
		}, 5 * time.Second, nil, 3, true},
		{"keeps failing", func(int) (bool, error) { return false, errConnReset }, 300 * time.Millisecond, errConnReset, 0, false},
		{"denied", func(int) (bool, error) { return false, denied }, 5 * time.Second, ErrNotWritable, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			tg := openFake(t, store, WithCommitRetry(tt.retry))
			rec := writePart(t, tg, "t", "l", src("t/a.csv"), 3)
			store.failPut = func(key string, call int) (bool, error) {
				if key != fakeManifestKey {
					return false, nil
				}
				return tt.failPut(call)
			}
			start := time.Now()
			_, err := tg.CommitManifest(context.Background(), coordinator.CommitRequest{Table: "t", LoadID: "l", Schema: encodedSchema(t), Loaded: []messages.FileRecord{rec}})
			t.Logf("commit took %s: %v", time.Since(start), err)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("commit: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("commit: %v, want %v", err, tt.wantErr)
			}
			if puts := store.puts[fakeManifestKey]; tt.wantPuts != 0 && puts != tt.wantPuts {
				t.Errorf("%d manifest PUTs, want %d", puts, tt.wantPuts)
			}
			m, err := tg.ReadManifest(context.Background(), "t")
			if landed := err == nil && m.LoadID == "l"; landed != tt.wantFinal {
				t.Errorf("manifest afterwards: %+v, %v", m, err)
			}
		})
	}
}

func TestS3PartsSpoolThroughTheBudget(t *testing.T) {
	dir := t.TempDir()
	budget := tempspace.New(dir, 4<<10)
	store := newMemStore()
	tg := openFake(t, store, WithTemp(budget))
	ctx := context.Background()

	rec := writePart(t, tg, "t", "l", src("t/a.csv"), 3)
	if budget.Used() != 0 || len(dirNames(t, dir)) != 0 {
		t.Errorf("a committed part left %d bytes charged, files %v", budget.Used(), dirNames(t, dir))
	}
	if data, err := store.Get(ctx, dstBucket, "tables/t/"+rec.Part); err != nil || int64(len(data)) != rec.Bytes {
		t.Fatalf("uploaded part: %d bytes, %v", len(data), err)
	}

	part, err := tg.CreatePart(ctx, "t", "l")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirNames(t, dir)) != 1 {
		t.Errorf("the spool file is not in the budget's directory: %v", dirNames(t, dir))
	}
	if _, err := part.Write(make([]byte, 5<<10)); !errors.Is(err, tempspace.ErrFull) {
		t.Fatalf("writing past the budget: %v, want tempspace.ErrFull", err)
	}
	part.Abort()
	if budget.Used() != 0 || len(dirNames(t, dir)) != 0 {
		t.Errorf("an aborted part left %d bytes charged, files %v", budget.Used(), dirNames(t, dir))
	}
}

func TestS3Check(t *testing.T) {
	e := newS3Env(t)
	ctx := context.Background()
	tg, _ := Open("s3://"+dstBucket+"/tables", e.st)
	if err := tg.Check(ctx); err != nil {
		t.Fatalf("Check on versitygw: %v", err)
	}
	if keys, err := e.st.ListKeys(ctx, dstBucket, ""); err != nil || len(keys) != 0 {
		t.Errorf("Check left %v (%v)", keys, err)
	}
	missing, _ := Open("s3://missing-bucket/tables", e.st)
	if err := missing.Check(ctx); err == nil || !strings.Contains(err.Error(), "missing-bucket") {
		t.Errorf("Check of a missing bucket: %v", err)
	}

	store := newMemStore()
	store.noConditions = true
	err := openFake(t, store).Check(ctx)
	if !errors.Is(err, ErrNoConditionalWrites) {
		t.Errorf("Check on a store that ignores If-None-Match: %v, want ErrNoConditionalWrites", err)
	}
	if keys := store.keys(); len(keys) != 0 {
		t.Errorf("Check left %v", keys)
	}
}
