package lake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/messages"
)

// DefaultKeepSnapshots is how many snapshots a table keeps after a commit:
// older ones expire, with the data files only they reference.
const DefaultKeepSnapshots = 5

// Snapshot summary properties s3load sets on every snapshot it commits.
const (
	// LoadIDProperty names the load a snapshot holds: a commit whose
	// outcome was lost finds its snapshot by it instead of committing twice.
	LoadIDProperty = "s3load.load-id"
	// RejectedRowsProperty counts the rows the load skipped into the
	// table's reject table (on_error: skip_row).
	RejectedRowsProperty = "s3load.rejected-rows"
	JobProperty          = "s3load.job"
)

// noBase is the Base of a table that had no snapshot when a load began.
const noBase = "none"

// Target is what the committer needs of the target the workers write to.
type Target interface {
	// TableLocation is where the table's metadata and data live.
	TableLocation(table string) string
	// VerifyParts checks the load's parts are stored as recorded.
	VerifyParts(ctx context.Context, table, load string, parts []target.PartSize) error
	coordinator.TableLocker
	// SweepExcept is Sweep asking keep of each staged load whether it stays.
	SweepExcept(ctx context.Context, table string, keep func(load string) (bool, error)) error
	IsPermanent(err error) bool
}

// Config configures a Committer.
type Config struct {
	// Catalog holds the tables; Namespace is every table's namespace in it.
	Catalog   catalog.Catalog
	Namespace []string
	// Target is where workers write the parts.
	Target Target
	// Job is recorded on each snapshot.
	Job string
	// KeepSnapshots is how many snapshots survive a commit
	// (DefaultKeepSnapshots when 0).
	KeepSnapshots int
	Logger        *slog.Logger
}

func (c Config) validate() error {
	if c.Catalog == nil || c.Target == nil || len(c.Namespace) == 0 {
		return errors.New("lake: Catalog, Target and Namespace are required")
	}
	if c.KeepSnapshots < 0 {
		return fmt.Errorf("lake: keep_snapshots must be at least 1, not %d", c.KeepSnapshots)
	}
	return nil
}

// Committer commits loads as Iceberg snapshots: the coordinator's
// Committer and TableLocker when the table format is Iceberg.
type Committer struct {
	cfg Config
	log *slog.Logger
}

var (
	_ coordinator.Committer   = (*Committer)(nil)
	_ coordinator.TableLocker = (*Committer)(nil)
)

// New returns a Committer.
func New(cfg Config) (*Committer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.KeepSnapshots = cmp.Or(cfg.KeepSnapshots, DefaultKeepSnapshots)
	log := cmp.Or(cfg.Logger, slog.Default())
	return &Committer{cfg: cfg, log: log}, nil
}

// Errors a commit ends with that only a person (or a newer load) settles.
var (
	// ErrStale: the table moved since the load began (another load
	// committed); this load's commit would replace newer rows.
	ErrStale = errors.New("table changed since this load began")
	// ErrForeignLocation: the table exists elsewhere than the target.
	ErrForeignLocation = errors.New("table lives outside the target")
)

// IsPermanent reports errors that retrying cannot fix.
func (c *Committer) IsPermanent(err error) bool {
	return errors.Is(err, ErrStale) || errors.Is(err, ErrUnsupportedType) || errors.Is(err, ErrForeignLocation) ||
		errors.Is(err, catalog.ErrNoSuchTable) ||
		errors.Is(err, errSchemaMoved) || c.cfg.Target.IsPermanent(err)
}

var errSchemaMoved = errors.New("the table's schema changed since this load began")

func (c *Committer) ident(name string) table.Identifier {
	return append(append(table.Identifier{}, c.cfg.Namespace...), name)
}

// Prepare settles the schema a load is written in: the table's, evolved to
// the load's, with its field IDs. The namespace and table are created when
// missing (a table with no snapshot reads as empty).
func (c *Committer) Prepare(ctx context.Context, req coordinator.PrepareRequest) (coordinator.Prepared, error) {
	if len(req.Schema) == 0 {
		// No file listed (allow_empty): nothing is written; the commit
		// empties the table if there is one.
		tbl, err := c.cfg.Catalog.LoadTable(ctx, c.ident(req.Table))
		switch {
		case isNoSuchTable(err):
			return coordinator.Prepared{Base: noBase}, nil
		case err != nil:
			return coordinator.Prepared{}, fmt.Errorf("loading table %s: %w", strings.Join(c.ident(req.Table), "."), err)
		}
		return coordinator.Prepared{Base: baseOf(tbl)}, nil
	}
	want, err := wantSchema(req.Schema)
	if err != nil {
		return coordinator.Prepared{}, err
	}
	tbl, err := c.loadOrCreate(ctx, req.Table, want)
	if err != nil {
		return coordinator.Prepared{}, err
	}
	tx := tbl.NewTransaction()
	changes, err := evolve(tx, tbl.Schema(), want)
	if err != nil {
		return coordinator.Prepared{}, err
	}
	write, err := writeSchema(tx)
	if err != nil {
		return coordinator.Prepared{}, err
	}
	return coordinator.Prepared{WriteSchema: write, Base: baseOf(tbl), Changes: changes}, nil
}

func wantSchema(encoded []byte) (*iceberg.Schema, error) {
	decoded, err := decode.DecodeSchema(encoded)
	if err != nil {
		return nil, fmt.Errorf("decoding the load's schema: %w", err)
	}
	return icebergSchema(decoded)
}

// writeSchema is the staged schema as Arrow, with field IDs, encoded.
func writeSchema(tx *table.Transaction) ([]byte, error) {
	staged, err := tx.StagedTable()
	if err != nil {
		return nil, fmt.Errorf("staging the schema: %w", err)
	}
	as, err := table.SchemaToArrowSchema(staged.Schema(), nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("converting the table's schema to Arrow: %w", err)
	}
	return decode.EncodeSchema(as)
}

func baseOf(tbl *table.Table) string {
	if s := tbl.CurrentSnapshot(); s != nil {
		return strconv.FormatInt(s.SnapshotID, 10)
	}
	return noBase
}

func (c *Committer) loadOrCreate(ctx context.Context, name string, want *iceberg.Schema) (*table.Table, error) {
	ident := c.ident(name)
	location := c.cfg.Target.TableLocation(name)
	tbl, err := c.cfg.Catalog.LoadTable(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		if err := c.createNamespace(ctx); err != nil {
			return nil, err
		}
		tbl, err = c.cfg.Catalog.CreateTable(ctx, ident, want,
			catalog.WithLocation(location),
			catalog.WithProperties(iceberg.Properties{
				// A conflict must come back to s3load, which decides
				// (its own snapshot, or a stale load), never be replayed.
				table.CommitNumRetriesKey:         "0",
				"write.parquet.compression-codec": "zstd",
			}))
		if errors.Is(err, catalog.ErrTableAlreadyExists) {
			tbl, err = c.cfg.Catalog.LoadTable(ctx, ident) // created meanwhile
		}
	}
	if err != nil {
		return nil, fmt.Errorf("loading table %s: %w", strings.Join(ident, "."), err)
	}
	if strings.TrimRight(tbl.Location(), "/") != strings.TrimRight(location, "/") {
		return nil, fmt.Errorf("%w: %s is at %s, but s3load writes its data under %s (drop the table or choose another namespace)",
			ErrForeignLocation, strings.Join(ident, "."), tbl.Location(), location)
	}
	return tbl, nil
}

func (c *Committer) createNamespace(ctx context.Context) error {
	ns := table.Identifier(c.cfg.Namespace)
	ok, err := c.cfg.Catalog.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return fmt.Errorf("checking namespace %s: %w", strings.Join(ns, "."), err)
	}
	if ok {
		return nil
	}
	err = c.cfg.Catalog.CreateNamespace(ctx, ns, nil)
	if err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return fmt.Errorf("creating namespace %s: %w", strings.Join(ns, "."), err)
	}
	return nil
}

// Commit makes the load the table's current snapshot: one overwrite that
// replaces every row (an append for a table's first rows). It is
// idempotent (a snapshot of this load already there is the answer) and
// fenced (a table that moved since the load began is refused, not
// overwritten); the catalog's compare-and-set decides between racing
// commits, and a lost outcome is found by reading the table back.
func (c *Committer) Commit(ctx context.Context, req coordinator.CommitRequest) (coordinator.CommitResult, error) {
	ident := c.ident(req.Table)
	tbl, err := c.cfg.Catalog.LoadTable(ctx, ident)
	if isNoSuchTable(err) && len(req.Schema) == 0 && len(req.Loaded) == 0 {
		return coordinator.CommitResult{}, nil // an empty load of a table that never was: nothing to empty
	}
	if err != nil {
		return coordinator.CommitResult{}, fmt.Errorf("loading table %s: %w", strings.Join(ident, "."), err)
	}
	if snap := snapshotOfLoad(tbl, req.LoadID); snap != nil {
		c.log.Info("load already committed; not committing again", "table", req.Table, "snapshot", snap.SnapshotID)
		return c.result(tbl, snap, req), nil
	}
	if err := c.checkBase(tbl, req); err != nil {
		return coordinator.CommitResult{}, err
	}
	// Parts reused from the snapshot before stay in the table; only the
	// load's own parts are verified and added.
	fresh, reused := splitReused(req)
	own := req
	own.Loaded = fresh
	parts, files, err := dataFiles(tbl, own)
	if err != nil {
		return coordinator.CommitResult{}, err
	}
	if err := c.cfg.Target.VerifyParts(ctx, req.Table, req.LoadID, parts); err != nil {
		return coordinator.CommitResult{}, err
	}
	tx, err := c.stage(ctx, tbl, req, files, reused)
	if err != nil {
		return coordinator.CommitResult{}, err
	}
	if err := c.writeFilesManifest(ctx, tbl, req); err != nil {
		return coordinator.CommitResult{}, err
	}
	committed, err := tx.Commit(ctx)
	if err != nil {
		return coordinator.CommitResult{}, c.settle(ctx, ident, req, err)
	}
	snap := snapshotOfLoad(committed, req.LoadID)
	c.expire(ctx, committed)
	return c.result(committed, snap, req), nil
}

// checkBase refuses a table that moved since the load began: another load
// committed meanwhile, and this one must not replace its rows.
func (c *Committer) checkBase(tbl *table.Table, req coordinator.CommitRequest) error {
	if req.Base == "" || baseOf(tbl) == req.Base {
		return nil
	}
	by := "another writer"
	if s := tbl.CurrentSnapshot(); s != nil && s.Summary != nil {
		if l := s.Summary.Properties[LoadIDProperty]; l != "" {
			by = "load " + l
		}
	}
	return fmt.Errorf("%w: %s is now at snapshot %s (by %s), not %s as when load %s began; this stale load is not committed and the table keeps the newer rows",
		ErrStale, strings.Join(c.ident(req.Table), "."), baseOf(tbl), by, req.Base, req.LoadID)
}

// stage builds the commit's transaction: the schema evolved as Prepare
// announced, and the snapshot.
func (c *Committer) stage(ctx context.Context, tbl *table.Table, req coordinator.CommitRequest, files []iceberg.DataFile, reused []messages.FileRecord) (*table.Transaction, error) {
	tx := tbl.NewTransaction()
	if len(req.Schema) > 0 { // an empty load (allow_empty) keeps the table's schema
		want, err := wantSchema(req.Schema)
		if err != nil {
			return nil, err
		}
		if _, err := evolve(tx, tbl.Schema(), want); err != nil {
			return nil, err
		}
	}
	if len(req.WriteSchema) > 0 {
		write, err := writeSchema(tx)
		if err != nil {
			return nil, err
		}
		if string(write) != string(req.WriteSchema) {
			return nil, fmt.Errorf("%w: the parts were written with field IDs the table no longer has; load again", errSchemaMoved)
		}
	}
	if tbl.Properties()[table.CommitNumRetriesKey] != "0" {
		if err := tx.SetProperties(iceberg.Properties{table.CommitNumRetriesKey: "0"}); err != nil {
			return nil, fmt.Errorf("setting table properties: %w", err)
		}
	}
	props := iceberg.Properties{LoadIDProperty: req.LoadID, JobProperty: c.cfg.Job,
		"s3load.files": strconv.Itoa(len(req.Loaded)), "s3load.failed-files": strconv.Itoa(len(req.Failed))}
	var rejected int64
	for _, f := range req.Loaded {
		rejected += f.Rejected
	}
	if rejected > 0 {
		props[RejectedRowsProperty] = strconv.FormatInt(rejected, 10)
	}
	reusedProps(props, req, len(reused))
	live, err := currentFiles(ctx, tbl)
	if err != nil {
		return nil, err
	}
	old := slices.DeleteFunc(slices.Clone(live), func(f iceberg.DataFile) bool { return f.ContentType() != iceberg.EntryContentData })
	var keep map[string]bool
	if len(reused) > 0 {
		if keep, err = checkReused(tbl, reused, old); err != nil {
			return nil, err
		}
		// A reused part is neither deleted nor added: it stays.
		old = slices.DeleteFunc(old, func(f iceberg.DataFile) bool { return keep[f.FilePath()] })
	}
	masks, err := c.planMasks(ctx, tbl, req, reused, live, keep)
	if err != nil {
		return nil, err
	}
	if len(masks.add) > 0 {
		// Its own snapshot, before the overwrite: a delete of the rows of
		// files that changed or are gone, in the parts that stay. One
		// catalog commit takes the table past both.
		props[MaskedPartsProperty] = strconv.Itoa(masks.parts)
		if err := tx.NewRowDelta(iceberg.Properties{MaskingLoadProperty: req.LoadID}).AddDeletes(masks.add...).Commit(ctx); err != nil {
			return nil, fmt.Errorf("staging the masks of changed files' rows: %w", err)
		}
	}
	switch {
	case len(old) > 0 || len(masks.remove) > 0:
		err = tx.ReplaceFiles(ctx, old, files, masks.remove, props)
	case len(files) > 0:
		err = tx.AddDataFiles(ctx, files, props)
	case len(reused) > 0:
		err = emptySnapshot(ctx, tx, props)
	}
	if err != nil {
		return nil, fmt.Errorf("staging the snapshot: %w", err)
	}
	return tx, nil
}

// settle decides a failed catalog commit: a conflict is either this
// load's own snapshot (an earlier try landed) or a stale load; any other
// error leaves the outcome unknown, and the retried Commit reads the
// table back first.
func (c *Committer) settle(ctx context.Context, ident table.Identifier, req coordinator.CommitRequest, cerr error) error {
	if !errors.Is(cerr, table.ErrCommitFailed) {
		return fmt.Errorf("committing %s: %w", strings.Join(ident, "."), cerr)
	}
	tbl, err := c.cfg.Catalog.LoadTable(ctx, ident)
	if err != nil {
		return fmt.Errorf("reading %s back after a conflict: %w", strings.Join(ident, "."), errors.Join(cerr, err))
	}
	if snapshotOfLoad(tbl, req.LoadID) != nil {
		return nil // the retried Commit returns it
	}
	if err := c.checkBase(tbl, req); err != nil {
		return err
	}
	return fmt.Errorf("committing %s: %w", strings.Join(ident, "."), cerr)
}

// snapshotOfLoad finds the table's snapshot of load, if any survives.
func snapshotOfLoad(tbl *table.Table, load string) *table.Snapshot {
	snaps := tbl.Metadata().Snapshots()
	for i := len(snaps) - 1; i >= 0; i-- {
		if s := snaps[i]; s.Summary != nil && s.Summary.Properties[LoadIDProperty] == load {
			return &s
		}
	}
	return nil
}

func (c *Committer) result(tbl *table.Table, snap *table.Snapshot, req coordinator.CommitRequest) coordinator.CommitResult {
	m := messages.Manifest{V: messages.Version, Table: req.Table, LoadID: req.LoadID, Files: make([]messages.ManifestFile, 0, len(req.Loaded))}
	for _, f := range req.Loaded {
		m.Rows += f.Rows
		m.Files = append(m.Files, messages.ManifestFile{Source: f.Source, Range: f.Range, Path: f.Part, Rows: f.Rows, Rejected: f.Rejected})
	}
	r := coordinator.CommitResult{Manifest: m, MetadataLocation: tbl.MetadataLocation()}
	if snap != nil {
		r.Snapshot = strconv.FormatInt(snap.SnapshotID, 10)
	}
	return r
}

// currentFiles lists the live files of the table's current snapshot, data
// and deletes: an overwrite deletes them all, but for the parts a load
// reuses and their masks.
func currentFiles(ctx context.Context, tbl *table.Table) ([]iceberg.DataFile, error) {
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return nil, nil
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the table's files: %w", err)
	}
	return snapshotFiles(fsys, *snap)
}

// snapshotFiles lists the live files of one snapshot, data and deletes,
// from its manifests.
func snapshotFiles(fsys icebergio.IO, snap table.Snapshot) ([]iceberg.DataFile, error) {
	manifests, err := snap.Manifests(fsys)
	if err != nil {
		return nil, fmt.Errorf("reading the manifests of snapshot %d: %w", snap.SnapshotID, err)
	}
	var out []iceberg.DataFile
	for _, m := range manifests {
		files, err := manifestFiles(fsys, m)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

// manifestFiles lists the live files one manifest holds.
func manifestFiles(fsys icebergio.IO, m iceberg.ManifestFile) ([]iceberg.DataFile, error) {
	entries, err := m.FetchEntries(fsys, true)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", m.FilePath(), err)
	}
	out := make([]iceberg.DataFile, len(entries))
	for i, e := range entries {
		out[i] = e.DataFile()
	}
	return out, nil
}

// expire drops snapshots beyond KeepSnapshots, and the data files only
// they referenced. A failure costs space only: it is logged and the next
// commit tries again.
func (c *Committer) expire(ctx context.Context, tbl *table.Table) {
	keep := retained(tbl, c.cfg.KeepSnapshots)
	if len(tbl.Metadata().Snapshots()) <= keep {
		return
	}
	tx := tbl.NewTransaction()
	if err := tx.ExpireSnapshots(table.WithRetainLast(keep), table.WithOlderThan(0)); err != nil {
		c.log.Warn("expiring old snapshots", "table", tbl.Identifier(), "err", err)
		return
	}
	after, err := tx.Commit(ctx)
	if err != nil {
		c.log.Warn("expiring old snapshots", "table", tbl.Identifier(), "err", err)
		return
	}
	c.dropFilesManifests(ctx, tbl, after)
}

// retained is how many snapshots, back from the current one, hold the last
// keep that count. The delete a masking load stages before its own
// snapshot does not count, so keep_snapshots keeps as many loads' time
// travel whether they masked rows or not.
func retained(tbl *table.Table, keep int) int {
	n, counted := 0, 0
	for s := tbl.CurrentSnapshot(); s != nil && counted < keep; {
		n++
		if s.Summary == nil || s.Summary.Properties[MaskingLoadProperty] == "" {
			counted++
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = tbl.Metadata().SnapshotByID(*s.ParentSnapshotID)
	}
	return n
}

// dropFilesManifests removes the files manifests of the loads whose
// snapshots expired: Iceberg does not know them, so its expiry leaves them,
// and a table loaded every night would keep one per night. A failure costs
// space only.
func (c *Committer) dropFilesManifests(ctx context.Context, before, after *table.Table) {
	live := map[string]bool{}
	for _, s := range after.Metadata().Snapshots() {
		if s.Summary != nil {
			live[s.Summary.Properties[LoadIDProperty]] = true
		}
	}
	fsys, err := after.FS(ctx)
	if err != nil {
		c.log.Warn("removing the files manifests of expired loads", "table", after.Identifier(), "err", err)
		return
	}
	for _, s := range before.Metadata().Snapshots() {
		load := ""
		if s.Summary != nil {
			load = s.Summary.Properties[LoadIDProperty]
		}
		if load == "" || live[load] {
			continue
		}
		if err := fsys.Remove(filesManifest(after, load)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("removing the files manifest of an expired load", "table", after.Identifier(), "load", load, "err", err)
		}
	}
}
