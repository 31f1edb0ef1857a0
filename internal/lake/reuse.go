package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	gojson "github.com/goccy/go-json"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// Snapshot summary properties of reuse.
const (
	// FingerprintProperty is the committed load's coordinator.Fingerprint:
	// a later load with the same one may keep this load's parts.
	FingerprintProperty = "s3load.fingerprint"
	// ReusedFilesProperty counts the source files whose parts the load
	// kept from the snapshot before it.
	ReusedFilesProperty = "s3load.reused-files"
	// ListSplitsProperty holds, as a JSON array, where the next load cuts
	// its listing (coordinator.CommitRequest.ListSplits).
	ListSplitsProperty = "s3load.list-splits"
)

// filesManifest is where a load's source files and their parts are kept
// beside the table's metadata: Iceberg's own data files do not say which
// source file they came from, and this must survive a lost state store.
// Written before the snapshot that points at it, so a committed snapshot
// always has one (removing it only costs the next load its reuse).
func filesManifest(tbl *table.Table, load string) string {
	return strings.TrimRight(tbl.Location(), "/") + "/metadata/s3load-files-" + load + ".json"
}

var _ coordinator.Reuser = (*Committer)(nil)

// PreviousLoad reads the table's current snapshot's load: its fingerprint
// and, from its files manifest, each whole source file whose part the
// snapshot still holds.
func (c *Committer) PreviousLoad(ctx context.Context, name string) (coordinator.PreviousLoad, error) {
	tbl, err := c.cfg.Catalog.LoadTable(ctx, c.ident(name))
	if isNoSuchTable(err) {
		return coordinator.PreviousLoad{}, nil
	}
	if err != nil {
		return coordinator.PreviousLoad{}, fmt.Errorf("loading table %s: %w", strings.Join(c.ident(name), "."), err)
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil || snap.Summary == nil {
		return coordinator.PreviousLoad{}, nil
	}
	load, fp := snap.Summary.Properties[LoadIDProperty], snap.Summary.Properties[FingerprintProperty]
	if load == "" || fp == "" {
		return coordinator.PreviousLoad{}, nil // not s3load's, or before reuse
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		return coordinator.PreviousLoad{}, fmt.Errorf("opening the table's files: %w", err)
	}
	m, err := readFilesManifest(fsys, filesManifest(tbl, load))
	if err != nil {
		return coordinator.PreviousLoad{}, err
	}
	live, err := snapshotFiles(fsys, *snap)
	if err != nil {
		return coordinator.PreviousLoad{}, err
	}
	loc := strings.TrimRight(tbl.Location(), "/") + "/"
	data := make(map[string]iceberg.DataFile, len(live))
	for _, f := range live {
		if f.ContentType() == iceberg.EntryContentData {
			data[strings.TrimPrefix(f.FilePath(), loc)] = f
		}
	}
	// A part is reused only while the snapshot holds it, at the size the
	// load recorded.
	files := coordinator.ManifestFiles(m.Manifest, func(part string, bytes int64) (string, bool) {
		f, ok := data[part]
		return part, ok && f.FileSizeBytes() == bytes
	})
	for i := range files {
		files[i].PartRows = data[files[i].Part].Count()
	}
	return coordinator.PreviousLoad{LoadID: load, Fingerprint: fp, Schema: m.TableSchema, Files: files, Masks: canMask(tbl)}, nil
}

// loadFiles is a files manifest: the load's files and parts as a plain
// table's manifest lists them, and the table schema the load decided.
type loadFiles struct {
	messages.Manifest
	TableSchema []byte `json:"s3load_table_schema,omitempty"`
}

func readFilesManifest(fsys icebergio.IO, location string) (loadFiles, error) {
	f, err := fsys.Open(location)
	if err != nil {
		return loadFiles{}, fmt.Errorf("opening %s: %w", location, err)
	}
	defer f.Close()
	// Read into a buffer of the file's size: grown from 512 bytes, a 2 MB
	// manifest was copied a dozen times.
	var buf bytes.Buffer
	if st, err := f.Stat(); err == nil {
		buf.Grow(int(st.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(f); err != nil {
		return loadFiles{}, fmt.Errorf("reading %s: %w", location, err)
	}
	data := buf.Bytes()
	var lf loadFiles
	// go-json: a 10,000-file manifest (2 MB) decodes in 4.4 ms, against
	// encoding/json's 20.5 ms on one core, before every repeated load's
	// listing (BenchmarkFilesManifest).
	if err := gojson.Unmarshal(data, &lf); err != nil {
		return loadFiles{}, fmt.Errorf("decoding %s: %w", location, err)
	}
	if lf.V != messages.Version {
		return loadFiles{}, fmt.Errorf("decoding %s: version %d: %w", location, lf.V, messages.ErrVersion)
	}
	return lf, nil
}

// ReusePart keeps the part where it is: a snapshot may reference data
// files that an earlier load wrote.
func (c *Committer) ReusePart(_ context.Context, _, _, part string) (string, error) {
	return part, nil
}

// splitReused tells the load's own parts (under data/<load>/) from those
// it reuses from the snapshot before it.
func splitReused(req coordinator.CommitRequest) (fresh, reused []messages.FileRecord) {
	own := "data/" + req.LoadID + "/"
	// Sized once: a record is ~300 bytes, and a repeated load keeps most.
	fresh, reused = make([]messages.FileRecord, 0, len(req.Loaded)/8), make([]messages.FileRecord, 0, len(req.Loaded))
	for _, f := range req.Loaded {
		if strings.HasPrefix(f.Part, own) {
			fresh = append(fresh, f)
		} else {
			reused = append(reused, f)
		}
	}
	return fresh, reused
}

// checkReused makes sure each reused part is still a live data file of the
// table, of its recorded size; otherwise its files are loaded again.
func checkReused(tbl *table.Table, reused []messages.FileRecord, old []iceberg.DataFile) (keep map[string]bool, err error) {
	loc := strings.TrimRight(tbl.Location(), "/") + "/"
	sizes := make(map[string]int64, len(old))
	for _, f := range old {
		sizes[f.FilePath()] = f.FileSizeBytes()
	}
	keep = map[string]bool{}
	var problems []string
	for _, f := range reused {
		size, ok := sizes[loc+f.Part]
		if !ok || size != f.Bytes {
			problems = append(problems, f.Part)
			continue
		}
		keep[loc+f.Part] = true
	}
	if len(problems) > 0 {
		return nil, &coordinator.PartsError{Parts: problems,
			Err: fmt.Errorf("%d reused parts are no longer data files of the table as recorded", len(problems))}
	}
	return keep, nil
}

// writeFilesManifest writes the load's files manifest (see filesManifest).
func (c *Committer) writeFilesManifest(ctx context.Context, tbl *table.Table, req coordinator.CommitRequest) error {
	m := c.result(tbl, nil, req).Manifest
	m.CommittedAt = time.Now().UTC()
	parts := map[string]bool{}
	for _, f := range req.Loaded {
		if !parts[f.Part] {
			parts[f.Part] = true
			m.Parts = append(m.Parts, messages.ManifestPart{Path: f.Part, Bytes: f.Bytes})
		}
	}
	m.V = messages.Version
	// Keys and paths are written as they are (valid JSON either way):
	// escaping them for HTML was a tenth of the encoding.
	data, err := gojson.MarshalWithOption(loadFiles{Manifest: m, TableSchema: req.Schema}, gojson.DisableHTMLEscape())
	if err != nil {
		return fmt.Errorf("encoding the load's files: %w", err)
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		return fmt.Errorf("opening the table's files: %w", err)
	}
	wfs, ok := fsys.(icebergio.WriteFileIO)
	if !ok {
		return fmt.Errorf("the table's file system cannot write")
	}
	if err := wfs.WriteFile(filesManifest(tbl, req.LoadID), data); err != nil {
		return fmt.Errorf("writing the load's files: %w", err)
	}
	return nil
}

func reusedProps(props iceberg.Properties, req coordinator.CommitRequest, reused int) {
	if req.Fingerprint != "" {
		props[FingerprintProperty] = req.Fingerprint
	}
	props[ReusedFilesProperty] = strconv.Itoa(reused)
	if len(req.ListSplits) > 0 {
		if splits, err := json.Marshal(req.ListSplits); err == nil {
			props[ListSplitsProperty] = string(splits)
		}
	}
}

var _ coordinator.SplitsReader = (*Committer)(nil)

// ListSplits reads where the table's current snapshot's load says to cut
// the next listing: the table's metadata only, not the load's files.
func (c *Committer) ListSplits(ctx context.Context, name string) ([]string, error) {
	tbl, err := c.cfg.Catalog.LoadTable(ctx, c.ident(name))
	if isNoSuchTable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading table %s: %w", strings.Join(c.ident(name), "."), err)
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil || snap.Summary == nil || snap.Summary.Properties[ListSplitsProperty] == "" {
		return nil, nil
	}
	var splits []string
	if err := json.Unmarshal([]byte(snap.Summary.Properties[ListSplitsProperty]), &splits); err != nil {
		return nil, fmt.Errorf("decoding snapshot %d's %s: %w", snap.SnapshotID, ListSplitsProperty, err)
	}
	return splits, nil
}

// emptySnapshot stages an append of no rows: a load that reuses every part
// and drops none still gets its snapshot, so it is found by its load id
// (an idempotent commit, the history) and carries its fingerprint.
func emptySnapshot(ctx context.Context, tx *table.Transaction, props iceberg.Properties) error {
	staged, err := tx.StagedTable()
	if err != nil {
		return err
	}
	schema, err := table.SchemaToArrowSchema(staged.Schema(), nil, true, false)
	if err != nil {
		return err
	}
	rdr, err := array.NewRecordReader(schema, nil)
	if err != nil {
		return err
	}
	defer rdr.Release()
	return tx.Append(ctx, rdr, props)
}
