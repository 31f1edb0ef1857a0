package target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// clockAt sets tg's lease clock to at.
func clockAt(tg *Target, at time.Time) *Target {
	tg.now = func() time.Time { return at }
	return tg
}

func TestTableLease(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			open := newTarget(t, kind)
			ctx := context.Background()
			const ttl = time.Minute
			t0 := time.Now()
			first := LeaseOwner{Job: "nightly", Load: "load1", Holder: "host-a-1"}
			other := LeaseOwner{Job: "adhoc", Load: "load2", Holder: "host-b-2"}

			a, err := clockAt(open(t), t0).AcquireTable(ctx, "t", first, ttl)
			if err != nil {
				t.Fatalf("acquiring a free table: %v", err)
			}
			// A lease of another table is independent.
			if _, err := clockAt(open(t), t0).AcquireTable(ctx, "u", other, ttl); err != nil {
				t.Fatalf("acquiring another table: %v", err)
			}

			// Another load finds the table busy and is told who holds it.
			_, err = clockAt(open(t), t0.Add(ttl/2)).AcquireTable(ctx, "t", other, ttl)
			var busy *BusyError
			if !errors.Is(err, ErrTableBusy) || !errors.As(err, &busy) {
				t.Fatalf("acquiring a held table: %v, want a *BusyError", err)
			}
			if busy.Table != "t" || busy.Holder != first || !busy.Renewed.Equal(t0) || busy.TTL != ttl {
				t.Errorf("BusyError = %+v", busy)
			}
			for _, want := range []string{`"nightly"`, "load1", "host-a-1", "wait for that load"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("busy message %q does not mention %q", err, want)
				}
			}

			// Renewing keeps it fresh: just under a TTL after the renewal
			// it is still busy, though more than a TTL after acquiring.
			a.t.now = func() time.Time { return t0.Add(ttl / 2) }
			if err := a.Renew(ctx); err != nil {
				t.Fatalf("renewing: %v", err)
			}
			if _, err := clockAt(open(t), t0.Add(ttl+ttl/4)).AcquireTable(ctx, "t", other, ttl); !errors.Is(err, ErrTableBusy) {
				t.Fatalf("acquiring a renewed lease: %v, want ErrTableBusy", err)
			}

			// The same job and load take it again (a restarted
			// coordinator); the old instance learns it lost the lease.
			again, err := clockAt(open(t), t0.Add(ttl/2)).AcquireTable(ctx, "t", LeaseOwner{Job: "nightly", Load: "load1", Holder: "host-c-3"}, ttl)
			if err != nil {
				t.Fatalf("the same load acquiring again: %v", err)
			}
			if err := a.Renew(ctx); !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "host-c-3") {
				t.Fatalf("renewing a lease taken by a restarted load: %v, want ErrLeaseLost naming host-c-3", err)
			}
			if err := again.Renew(ctx); err != nil {
				t.Fatalf("renewing the re-acquired lease: %v", err)
			}

			// Not renewed for a TTL, it is stale and another load takes
			// it over; its former holder's renewal fails.
			b, err := clockAt(open(t), t0.Add(ttl/2+ttl+time.Second)).AcquireTable(ctx, "t", other, ttl)
			if err != nil {
				t.Fatalf("taking over a stale lease: %v", err)
			}
			if err := again.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("renewing a lease taken over: %v, want ErrLeaseLost", err)
			}
			if err := again.Release(ctx); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("releasing a lease taken over: %v, want ErrLeaseLost", err)
			}

			// Released, the table is free at once.
			if err := b.Release(ctx); err != nil {
				t.Fatalf("releasing: %v", err)
			}
			if err := b.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("renewing a released lease: %v, want ErrLeaseLost", err)
			}
			if _, err := clockAt(open(t), t0.Add(ttl/2+ttl+2*time.Second)).AcquireTable(ctx, "t", first, ttl); err != nil {
				t.Fatalf("acquiring a released lease: %v", err)
			}
		})
	}
}

// TestLeaseRacingTakers: takers that all find the lease stale (or absent)
// race for it; exactly one wins each round, the others find it busy.
func TestLeaseRacingTakers(t *testing.T) {
	rounds := map[string]int{"local": 30, "s3": 8}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			open := newTarget(t, kind)
			ctx := context.Background()
			const ttl = time.Minute
			const takers = 6
			now := time.Now()
			for round := range rounds[kind] {
				// Each round's takers come a TTL after the last winner.
				now = now.Add(ttl + time.Second)
				targets := make([]*Target, takers)
				for i := range targets {
					targets[i] = clockAt(open(t), now)
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make([]error, takers)
				for i := range takers {
					wg.Go(func() {
						<-start
						owner := LeaseOwner{Job: "j", Load: fmt.Sprintf("r%dt%d", round, i), Holder: "test"}
						_, errs[i] = targets[i].AcquireTable(ctx, "t", owner, ttl)
					})
				}
				close(start)
				wg.Wait()
				won := 0
				for i, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, ErrTableBusy):
						t.Fatalf("round %d, taker %d: %v", round, i, err)
					}
				}
				if won != 1 {
					t.Fatalf("round %d: %d takers won, want exactly 1 (%v)", round, won, errs)
				}
			}
		})
	}
}

// A lease file being written (created, not yet filled) is held by someone:
// fresh, the table is busy; left so for a TTL by a dead writer, it is stale.
func TestLocalLeaseBeingWritten(t *testing.T) {
	root := t.TempDir()
	tg, _ := Open("file://"+root, nil)
	ctx := context.Background()
	dir := localLeases{tg.local}.dir("t")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, genName(7)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	owner := LeaseOwner{Job: "j", Load: "l", Holder: "h"}
	if _, err := clockAt(tg, now).AcquireTable(ctx, "t", owner, time.Minute); !errors.Is(err, ErrTableBusy) {
		t.Fatalf("acquiring while a lease is being written: %v, want ErrTableBusy", err)
	}
	l, err := clockAt(tg, now.Add(2*time.Minute)).AcquireTable(ctx, "t", owner, time.Minute)
	if err != nil {
		t.Fatalf("acquiring over a dead writer's empty lease: %v", err)
	}
	if l.ver.gen != 8 {
		t.Errorf("took generation %d, want 8", l.ver.gen)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != genName(8) {
		t.Errorf("lease directory holds %v, want only the new generation", names)
	}
}

// A taker that read a generation long ago, since replaced twice and
// removed, creates the next one anew; it must still lose to the newer
// generations.
func TestLocalLeaseLateTakerLoses(t *testing.T) {
	root := t.TempDir()
	tg, _ := Open("file://"+root, nil)
	ctx := context.Background()
	owner := LeaseOwner{Job: "j", Load: "l", Holder: "h"}
	l, err := tg.AcquireTable(ctx, "t", owner, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := l.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	store := localLeases{tg.local}
	if names := dirNames(t, store.dir("t")); len(names) != 1 || names[0] != genName(3) {
		t.Fatalf("lease directory holds %v, want generation 3 alone", names)
	}
	late := leaseRecord{Job: "other", Load: "late", Token: "late", Renewed: time.Now()}
	if _, err := store.swap(ctx, "t", leaseVersion{gen: 1}, late); !errors.Is(err, errLeaseRace) {
		t.Fatalf("a late taker's swap: %v, want errLeaseRace", err)
	}
	if names := dirNames(t, store.dir("t")); len(names) != 1 {
		t.Errorf("the late taker left %v", names)
	}
	if err := l.Renew(ctx); err != nil {
		t.Fatalf("the holder lost its lease to a late taker: %v", err)
	}
}

// A lease write whose reply is lost landed all the same: the holder
// recognises its own write and keeps the lease.
func TestS3LeaseLostReplies(t *testing.T) {
	store := newMemStore()
	tg := openFake(t, store)
	ctx := context.Background()
	owner := LeaseOwner{Job: "j", Load: "l", Holder: "h"}

	store.lostCondReplies = 1
	l, err := tg.AcquireTable(ctx, "t", owner, time.Minute)
	if err != nil {
		t.Fatalf("acquiring with a lost reply: %v", err)
	}
	store.lostCondReplies = 1
	if err := l.Renew(ctx); err == nil || errors.Is(err, ErrLeaseLost) {
		t.Fatalf("renewing with a lost reply: %v, want a plain error", err)
	}
	if err := l.Renew(ctx); err != nil {
		t.Fatalf("renewing after a lost reply: %v", err)
	}
	store.lostCondReplies = 1
	if err := l.Release(ctx); err == nil {
		t.Fatal("releasing with a lost reply: no error")
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("releasing again after a lost reply: %v", err)
	}
	if _, err := clockAt(openFake(t, store), time.Now()).AcquireTable(ctx, "t", LeaseOwner{Job: "k", Load: "m"}, time.Minute); err != nil {
		t.Fatalf("acquiring after the release: %v", err)
	}
}

func TestS3LeaseNeedsConditionalWrites(t *testing.T) {
	store := &notImplementedStore{memStore: newMemStore()}
	tg, err := Open("s3://"+dstBucket+"/tables", store)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.AcquireTable(context.Background(), "t", LeaseOwner{Job: "j", Load: "l"}, time.Minute)
	if !errors.Is(err, ErrNoConditionalWrites) {
		t.Fatalf("acquiring on a store without conditional writes: %v, want ErrNoConditionalWrites", err)
	}
	if store.calls != 1 {
		t.Errorf("%d conditional writes tried, want 1", store.calls)
	}
}

// notImplementedStore answers conditional writes 501 NotImplemented.
type notImplementedStore struct {
	*memStore
	calls int
}

func (s *notImplementedStore) PutIfAbsent(context.Context, string, string, []byte) (string, error) {
	s.calls++
	// As the SDK returns it: an API error inside an HTTP 501 response.
	return "", &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusNotImplemented}},
		Err:      &smithy.GenericAPIError{Code: "NotImplemented", Message: "If-None-Match"},
	}
}
