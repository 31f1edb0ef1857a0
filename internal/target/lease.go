package target

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/s3store"
)

// DefaultLeaseTTL is the lease TTL AcquireTable uses when given none.
const DefaultLeaseTTL = 2 * time.Minute

// maxLeaseAttempts bounds how often AcquireTable reads the lease again
// after losing a race for it; the loser of a race sees the winner's fresh
// lease at the next read, so a few are plenty.
const maxLeaseAttempts = 5

var (
	// ErrTableBusy: another load holds the table's lease; the error is a
	// *BusyError naming it. It is the coordinator's port error.
	ErrTableBusy = coordinator.ErrTableBusy
	// ErrLeaseLost: another load took the lease over (it had gone stale,
	// or the same load was started again elsewhere). Stop writing the
	// table: the new holder may remove what this load wrote.
	ErrLeaseLost = coordinator.ErrTableLockLost
)

// LeaseOwner is who holds a table's lease. Holder (host and pid, say) is
// only for messages.
type LeaseOwner struct{ Job, Load, Holder string }

// BusyError says who holds a table's lease.
type BusyError struct {
	Table   string
	Holder  LeaseOwner
	Renewed time.Time
	// TTL is the holder's: the lease is stale once it has not been
	// renewed for that long.
	TTL time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("table %s: %v: %s holds its lease, last renewed %s: "+
		"wait for that load to end, or stop it; a lease not renewed for %s is taken over",
		e.Table, ErrTableBusy, e.Holder, e.Renewed.UTC().Format(time.RFC3339), e.TTL)
}

func (e *BusyError) Unwrap() error { return ErrTableBusy }

func (o LeaseOwner) String() string {
	if o.Job == "" && o.Load == "" {
		return o.Holder
	}
	return fmt.Sprintf("job %q (load %s, %s)", o.Job, o.Load, o.Holder)
}

// leaseRecord is the lease as stored. Token is new at every acquisition,
// so a holder can tell its own write (whose reply was lost) from anyone
// else's, even the same load's started again.
type leaseRecord struct {
	Job       string    `json:"job"`
	Load      string    `json:"load"`
	Holder    string    `json:"holder"`
	Token     string    `json:"token"`
	Acquired  time.Time `json:"acquired"`
	Renewed   time.Time `json:"renewed"`
	TTLMillis int64     `json:"ttl_ms"`
	Released  bool      `json:"released,omitempty"`
}

func (r *leaseRecord) owner() LeaseOwner {
	return LeaseOwner{Job: r.Job, Load: r.Load, Holder: r.Holder}
}

// ttl is the holder's TTL, or fallback for a record that does not say.
func (r *leaseRecord) ttl(fallback time.Duration) time.Duration {
	if r.TTLMillis > 0 {
		return time.Duration(r.TTLMillis) * time.Millisecond
	}
	return fallback
}

// stale: not renewed for the holder's TTL, judged by the renewal time the
// holder wrote against now (see the package doc on clocks).
func (r *leaseRecord) stale(now time.Time, fallback time.Duration) bool {
	return now.Sub(r.Renewed) > r.ttl(fallback)
}

// leaseVersion is one stored version of a lease: what a compare-and-swap
// must still find. The zero value is "no lease yet".
type leaseVersion struct {
	gen  uint64 // local: the generation file's number
	etag string // S3
}

// errLeaseRace: a compare-and-swap found another version.
var errLeaseRace = errors.New("the lease changed meanwhile")

// leaseStore keeps the leases of one target.
type leaseStore interface {
	// read returns the table's lease (nil if it never had one) and its
	// version.
	read(ctx context.Context, table string) (*leaseRecord, leaseVersion, error)
	// swap stores rec if the lease is still at prev and returns the new
	// version; errLeaseRace if it is not.
	swap(ctx context.Context, table string, prev leaseVersion, rec leaseRecord) (leaseVersion, error)
}

func (t *Target) leases() leaseStore {
	if t.s3 != nil {
		return s3Leases{t.s3}
	}
	return localLeases{t.local}
}

// TableLease is a held lease on one table. Its methods may be called from
// different goroutines.
type TableLease struct {
	t     *Target
	store leaseStore
	table string

	mu       sync.Mutex
	rec      leaseRecord
	ver      leaseVersion
	released bool
}

// AcquireTable takes table's lease for owner: only one load of a table
// runs at a time. Another owner's fresh lease fails it with a *BusyError
// (ErrTableBusy); a lease not renewed for its TTL is taken over, and the
// same job and load may always take it again. ttl <= 0 is
// DefaultLeaseTTL; renew well within it.
func (t *Target) AcquireTable(ctx context.Context, table string, owner LeaseOwner, ttl time.Duration) (*TableLease, error) {
	if err := checkNames(table, owner.Load); err != nil {
		return nil, fmt.Errorf("acquiring the lease of %s: %w", table, err)
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	store := t.leases()
	token := newToken()
	var last error
	for range maxLeaseAttempts {
		cur, ver, err := store.read(ctx, table)
		if err != nil {
			return nil, fmt.Errorf("acquiring the lease of %s: %w", table, err)
		}
		if cur != nil && cur.Token == token && !cur.Released {
			// An earlier attempt landed though its reply was lost.
			return &TableLease{t: t, store: store, table: table, rec: *cur, ver: ver}, nil
		}
		now := t.now()
		if cur != nil && !cur.Released && (cur.Job != owner.Job || cur.Load != owner.Load) && !cur.stale(now, ttl) {
			return nil, &BusyError{Table: table, Holder: cur.owner(), Renewed: cur.Renewed, TTL: cur.ttl(ttl)}
		}
		rec := leaseRecord{
			Job: owner.Job, Load: owner.Load, Holder: owner.Holder, Token: token,
			Acquired: now, Renewed: now, TTLMillis: ttl.Milliseconds(),
		}
		nv, err := store.swap(ctx, table, ver, rec)
		if err == nil {
			return &TableLease{t: t, store: store, table: table, rec: rec, ver: nv}, nil
		}
		if errors.Is(err, ErrNoConditionalWrites) || !errors.Is(err, errLeaseRace) && !s3store.IsTransient(err) {
			return nil, fmt.Errorf("acquiring the lease of %s: %w", table, err)
		}
		last = err // read again: the winner, or our own write, is there now
	}
	return nil, fmt.Errorf("acquiring the lease of %s: it changed at each of %d attempts: %w", table, maxLeaseAttempts, last)
}

// Renew writes a new renewal time. ErrLeaseLost: another owner took the
// lease over, and this load must stop. Other errors (a store that did not
// answer) leave the lease as it was: renew again soon.
func (l *TableLease) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return fmt.Errorf("renewing the lease of %s: %w: it was released", l.table, ErrLeaseLost)
	}
	rec := l.rec
	rec.Renewed = l.t.now()
	if err := l.swap(ctx, rec); err != nil {
		return fmt.Errorf("renewing the lease of %s: %w", l.table, err)
	}
	return nil
}

// Release gives the lease up, so the table's next load need not wait for
// it to go stale. ErrLeaseLost: another owner had taken it over.
func (l *TableLease) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	rec := l.rec
	rec.Renewed, rec.Released = l.t.now(), true
	if err := l.swap(ctx, rec); err != nil {
		return fmt.Errorf("releasing the lease of %s: %w", l.table, err)
	}
	l.released = true
	return nil
}

// swap replaces the lease with rec if it is still the version this holder
// wrote last. A lost race is either another owner's takeover (ErrLeaseLost)
// or this holder's own earlier write whose reply was lost, which it adopts.
func (l *TableLease) swap(ctx context.Context, rec leaseRecord) error {
	for range 2 {
		nv, err := l.store.swap(ctx, l.table, l.ver, rec)
		if err == nil {
			l.rec, l.ver = rec, nv
			return nil
		}
		if !errors.Is(err, errLeaseRace) {
			return err
		}
		cur, ver, err := l.store.read(ctx, l.table)
		if err != nil {
			return err
		}
		if cur == nil || cur.Token != rec.Token {
			holder := "nobody"
			if cur != nil {
				holder = cur.owner().String()
			}
			return fmt.Errorf("%w: %s holds it now", ErrLeaseLost, holder)
		}
		if cur.Released == rec.Released && cur.Renewed.Equal(rec.Renewed) {
			l.rec, l.ver = rec, ver // our write landed
			return nil
		}
		l.ver = ver
	}
	return errLeaseRace
}

// leasedBy reports whether load holds table's fresh lease, which allows a
// commit to remove the table's other loads: none of them can be running.
// Any doubt (no lease, a read error) says no.
func (t *Target) leasedBy(ctx context.Context, table, load string) bool {
	cur, _, err := t.leases().read(ctx, table)
	return err == nil && cur != nil && !cur.Released && cur.Load == load && !cur.stale(t.now(), DefaultLeaseTTL)
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
