package lakecheck

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Table is what the checker found in one snapshot of a table.
type Table struct {
	MetadataLocation string
	FormatVersion    int
	Location         string
	// SnapshotID is the snapshot read; 0 when the table has none yet.
	SnapshotID int64
	Operation  string            // the snapshot summary's "operation"
	Summary    map[string]string // the snapshot summary, e.g. "s3load.load-id"
	Snapshots  []Snapshot        // every snapshot in the metadata, in its order
	Schema     []Field           // the current schema
	DataFiles  []DataFile        // the snapshot's live data files, in manifest order
	// DeleteFiles are the snapshot's live position delete files.
	DeleteFiles []DataFile
	Rows        int64 // rows read from the data files, less those deleted
	// Deleted counts the rows of live data files that position deletes
	// hide; DeletedRows lists them, by data file path, ascending.
	Deleted     int64
	DeletedRows map[string][]int64
	// Columns aggregates each top-level column of the current schema by
	// name, matched in the data files by Parquet field id.
	Columns map[string]*Agg
}

// DataFile is a live data file as its manifest lists it.
type DataFile struct {
	Path        string
	Format      string
	Status      int // 0 existing, 1 added
	RecordCount int64
	SizeInBytes int64
	// Column statistics by field id, as the manifest lists them.
	ColumnSizes     map[int]int64
	ValueCounts     map[int]int64
	NullValueCounts map[int]int64
	NaNValueCounts  map[int]int64
	LowerBounds     map[int][]byte
	UpperBounds     map[int][]byte
}

// Option changes what ReadTable reads.
type Option func(*options)

type options struct {
	snapshotID *int64
	mem        memory.Allocator
}

// AtSnapshot reads snapshot id instead of the current one (time travel).
func AtSnapshot(id int64) Option {
	return func(o *options) { o.snapshotID = &id }
}

// WithAllocator reads Parquet data with mem, e.g. a checked allocator in
// tests.
func WithAllocator(mem memory.Allocator) Option {
	return func(o *options) { o.mem = mem }
}

// ReadTable reads the table whose metadata is at location (a
// vN.metadata.json) or, given a table location, the version named by
// metadata/version-hint.text. It reads every live data file of the
// snapshot and fails if the metadata and the files disagree.
func ReadTable(ctx context.Context, open Opener, location string, opts ...Option) (*Table, error) {
	o := options{mem: memory.DefaultAllocator}
	for _, opt := range opts {
		opt(&o)
	}
	metaLoc, md, err := loadMetadata(ctx, open, location)
	if err != nil {
		return nil, err
	}
	fields, err := md.currentSchema()
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaLoc, err)
	}
	t := &Table{
		MetadataLocation: metaLoc,
		FormatVersion:    md.FormatVersion,
		Location:         md.Location,
		Snapshots:        md.snapshots(),
		Schema:           fields,
		Columns:          make(map[string]*Agg, len(fields)),
	}
	for _, f := range fields {
		t.Columns[f.Name] = &Agg{Type: f.Type}
	}

	snap, err := pickSnapshot(md, o.snapshotID)
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", metaLoc, err)
	}
	if snap == nil {
		return t, nil
	}
	t.SnapshotID, t.Operation, t.Summary = snap.ID, snap.Operation, snap.Summary

	if snap.ManifestList == "" {
		return nil, fmt.Errorf("snapshot %d: %w: no manifest list (inline v1 manifests are not supported)", snap.ID, ErrInvalidMetadata)
	}
	if t.DataFiles, t.DeleteFiles, err = liveFiles(ctx, open, snap.ManifestList); err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", snap.ID, err)
	}
	deleted := map[string][]int64{}
	for _, df := range t.DeleteFiles {
		if err := readPosDeletes(ctx, open, df, deleted, o.mem); err != nil {
			return nil, fmt.Errorf("snapshot %d: delete file %s: %w", snap.ID, df.Path, err)
		}
	}
	t.DeletedRows = map[string][]int64{}
	for _, df := range t.DataFiles {
		if d := deleted[df.Path]; len(d) > 0 {
			t.DeletedRows[df.Path] = d
		}
		if err := readDataFile(ctx, open, df, t, o.mem, deleted[df.Path]); err != nil {
			return nil, fmt.Errorf("snapshot %d: data file %s: %w", snap.ID, df.Path, err)
		}
	}
	if err := checkSummary(t); err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", snap.ID, err)
	}
	return t, nil
}

// pickSnapshot finds the snapshot asked for, or the current one; nil when
// the table has no current snapshot.
func pickSnapshot(md *metadataJSON, want *int64) (*Snapshot, error) {
	id := md.CurrentSnapshotID
	if want != nil {
		id = want
	}
	if id == nil || (want == nil && *id == -1) { // v1 writers use -1 for none
		return nil, nil
	}
	for _, s := range md.snapshots() {
		if s.ID == *id {
			return &s, nil
		}
	}
	return nil, fmt.Errorf("%w: %d", ErrSnapshotNotFound, *id)
}

// liveFiles walks a manifest list and its manifests and returns the
// entries that are live (existing or added): data files and position
// delete files.
func liveFiles(ctx context.Context, open Opener, manifestList string) (data, deletes []DataFile, err error) {
	manifests, err := readManifestList(ctx, open, manifestList)
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[string]string) // file path -> manifest listing it
	for _, mf := range manifests {
		if mf.Content != contentData && mf.Content != contentPosDeletes {
			return nil, nil, fmt.Errorf("manifest %s: %w", mf.Path, ErrDeleteFiles)
		}
		entries, err := readManifest(ctx, open, mf)
		if err != nil {
			return nil, nil, err
		}
		if err := checkCounts(mf, entries); err != nil {
			return nil, nil, err
		}
		for _, e := range entries {
			if e.Status == statusDeleted {
				continue
			}
			df := e.DataFile
			if df.Content == contentPosDeletes && mf.Content == contentPosDeletes {
				if other, dup := seen[df.FilePath]; dup {
					return nil, nil, fmt.Errorf("manifest %s: %w: delete file %s is live twice (also in %s)", mf.Path, ErrInvalidMetadata, df.FilePath, other)
				}
				seen[df.FilePath] = mf.Path
				deletes = append(deletes, DataFile{Path: df.FilePath, Format: df.FileFormat, Status: int(e.Status),
					RecordCount: df.RecordCount, SizeInBytes: df.FileSizeInBytes})
				continue
			}
			if df.Content != contentData || mf.Content != contentData {
				return nil, nil, fmt.Errorf("manifest %s: entry %s: %w: content %d in a manifest of content %d", mf.Path, df.FilePath, ErrDeleteFiles, df.Content, mf.Content)
			}
			if !strings.EqualFold(df.FileFormat, "parquet") {
				return nil, nil, fmt.Errorf("manifest %s: entry %s: %w: file format %q, only parquet is read", mf.Path, df.FilePath, ErrInvalidMetadata, df.FileFormat)
			}
			if other, dup := seen[df.FilePath]; dup {
				return nil, nil, fmt.Errorf("manifest %s: %w: data file %s is live twice (also in %s)", mf.Path, ErrInvalidMetadata, df.FilePath, other)
			}
			seen[df.FilePath] = mf.Path
			data = append(data, DataFile{
				Path:            df.FilePath,
				Format:          df.FileFormat,
				Status:          int(e.Status),
				RecordCount:     df.RecordCount,
				SizeInBytes:     df.FileSizeInBytes,
				ColumnSizes:     longMap(df.ColumnSizes),
				ValueCounts:     longMap(df.ValueCounts),
				NullValueCounts: longMap(df.NullValueCounts),
				NaNValueCounts:  longMap(df.NaNValueCounts),
				LowerBounds:     bytesMap(df.LowerBounds),
				UpperBounds:     bytesMap(df.UpperBounds),
			})
		}
	}
	return data, deletes, nil
}

// readDataFile reads one data file, checks it against its manifest entry
// and adds its rows and columns to t, but for the rows at deleted
// (ascending positions).
func readDataFile(ctx context.Context, open Opener, df DataFile, t *Table, mem memory.Allocator, deleted []int64) error {
	b, err := open(ctx, df.Path)
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	if int64(len(b)) != df.SizeInBytes {
		return fmt.Errorf("%w: file_size_in_bytes %d, actual size %d", ErrMismatch, df.SizeInBytes, len(b))
	}
	aggs, live, err := readParquet(ctx, b, t.Schema, mem, deleted)
	if err != nil {
		return err
	}
	if aggs.rows != df.RecordCount {
		return fmt.Errorf("%w: record_count %d, rows read %d", ErrMismatch, df.RecordCount, aggs.rows)
	}
	if err := checkStats(df, t.Schema, aggs); err != nil {
		return err
	}
	t.Rows += live.rows
	t.Deleted += aggs.rows - live.rows
	for _, f := range t.Schema {
		t.Columns[f.Name].merge(live.cols[f.ID])
	}
	return nil
}

// checkStats compares the manifest's column statistics of top-level
// primitive columns, where listed, with what the file holds. Bounds need
// only contain the values: writers may truncate them.
func checkStats(df DataFile, fields []Field, aggs fileAggs) error {
	for _, f := range fields {
		if f.Fields != nil {
			continue // nested: the manifest counts leaf values
		}
		agg := aggs.cols[f.ID]
		if v, ok := df.ValueCounts[f.ID]; ok && v != agg.Count+agg.Nulls {
			return fmt.Errorf("%w: column %q: value_counts %d, values read %d", ErrMismatch, f.Name, v, agg.Count+agg.Nulls)
		}
		if v, ok := df.NullValueCounts[f.ID]; ok && v != agg.Nulls {
			return fmt.Errorf("%w: column %q: null_value_counts %d, nulls read %d", ErrMismatch, f.Name, v, agg.Nulls)
		}
		if v, ok := df.NaNValueCounts[f.ID]; ok && v != agg.NaNs {
			return fmt.Errorf("%w: column %q: nan_value_counts %d, NaNs read %d", ErrMismatch, f.Name, v, agg.NaNs)
		}
		if b, ok := df.LowerBounds[f.ID]; ok && agg.Min != nil {
			if lo, ok := decodeBound(f.Type, b); ok && compareValues(lo, agg.Min) > 0 {
				return fmt.Errorf("%w: column %q: lower bound %v above the minimum read %v", ErrMismatch, f.Name, lo, agg.Min)
			}
		}
		if b, ok := df.UpperBounds[f.ID]; ok && agg.Max != nil {
			if hi, ok := decodeBound(f.Type, b); ok && compareValues(hi, agg.Max) < 0 {
				return fmt.Errorf("%w: column %q: upper bound %v below the maximum read %v", ErrMismatch, f.Name, hi, agg.Max)
			}
		}
	}
	return nil
}

// checkSummary compares the snapshot summary's totals, where present, with
// the live files.
func checkSummary(t *Table) error {
	var size, records, posDeletes int64
	for _, df := range t.DataFiles {
		size += df.SizeInBytes
		records += df.RecordCount
	}
	for _, df := range t.DeleteFiles {
		size += df.SizeInBytes
		posDeletes += df.RecordCount
	}
	for _, c := range []struct {
		key    string
		actual int64
	}{
		{"total-records", records},
		{"total-data-files", int64(len(t.DataFiles))},
		{"total-delete-files", int64(len(t.DeleteFiles))},
		{"total-position-deletes", posDeletes},
		{"total-files-size", size},
	} {
		s, ok := t.Summary[c.key]
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: summary %s is %q", ErrInvalidMetadata, c.key, s)
		}
		if v != c.actual {
			return fmt.Errorf("%w: summary %s %d, live files have %d", ErrMismatch, c.key, v, c.actual)
		}
	}
	return nil
}

func longMap(kvs []intLong) map[int]int64 {
	if kvs == nil {
		return nil
	}
	m := make(map[int]int64, len(kvs))
	for _, kv := range kvs {
		m[int(kv.Key)] = kv.Value
	}
	return m
}

func bytesMap(kvs []intBytes) map[int][]byte {
	if kvs == nil {
		return nil
	}
	m := make(map[int][]byte, len(kvs))
	for _, kv := range kvs {
		m[int(kv.Key)] = kv.Value
	}
	return m
}
