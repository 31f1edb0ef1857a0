package lakecheck

import (
	"bytes"
	"context"
	"fmt"

	"github.com/hamba/avro/v2/ocf"
)

// Manifest entry statuses and content types from the Iceberg spec.
const (
	statusExisting = 0
	statusAdded    = 1
	statusDeleted  = 2

	contentData       = 0
	contentPosDeletes = 1
)

// manifestFile is one row of a manifest list. Counts are "any" because
// format v1 makes them optional (an Avro union) and v2 required: the Avro
// library decodes either into an interface, giving nil, int or int64.
type manifestFile struct {
	Path               string `avro:"manifest_path"`
	Length             int64  `avro:"manifest_length"`
	PartitionSpecID    int32  `avro:"partition_spec_id"`
	Content            int32  `avro:"content"` // absent in v1, meaning data
	AddedSnapshotID    int64  `avro:"added_snapshot_id"`
	AddedFilesCount    any    `avro:"added_files_count"`
	ExistingFilesCount any    `avro:"existing_files_count"`
	DeletedFilesCount  any    `avro:"deleted_files_count"`
	AddedRowsCount     any    `avro:"added_rows_count"`
	ExistingRowsCount  any    `avro:"existing_rows_count"`
	DeletedRowsCount   any    `avro:"deleted_rows_count"`
}

// manifestEntry is one row of a manifest.
type manifestEntry struct {
	Status     int32    `avro:"status"`
	SnapshotID any      `avro:"snapshot_id"` // required in v1, optional in v2
	DataFile   dataFile `avro:"data_file"`
}

type dataFile struct {
	Content         int32      `avro:"content"` // absent in v1, meaning data
	FilePath        string     `avro:"file_path"`
	FileFormat      string     `avro:"file_format"`
	RecordCount     int64      `avro:"record_count"`
	FileSizeInBytes int64      `avro:"file_size_in_bytes"`
	ColumnSizes     []intLong  `avro:"column_sizes"`
	ValueCounts     []intLong  `avro:"value_counts"`
	NullValueCounts []intLong  `avro:"null_value_counts"`
	NaNValueCounts  []intLong  `avro:"nan_value_counts"`
	LowerBounds     []intBytes `avro:"lower_bounds"`
	UpperBounds     []intBytes `avro:"upper_bounds"`
}

// intLong and intBytes are the key/value records Iceberg writes maps with
// int keys as.
type intLong struct {
	Key   int32 `avro:"key"`
	Value int64 `avro:"value"`
}

type intBytes struct {
	Key   int32  `avro:"key"`
	Value []byte `avro:"value"`
}

// readManifestList reads and decodes a snapshot's manifest list.
func readManifestList(ctx context.Context, open Opener, location string) ([]manifestFile, error) {
	b, err := open(ctx, location)
	if err != nil {
		return nil, fmt.Errorf("reading manifest list %s: %w", location, err)
	}
	files, err := decodeAll[manifestFile](b)
	if err != nil {
		return nil, fmt.Errorf("decoding manifest list %s: %w: %w", location, ErrInvalidMetadata, err)
	}
	return files, nil
}

// readManifest reads and decodes a manifest, checking its length against
// the manifest list's manifest_length.
func readManifest(ctx context.Context, open Opener, mf manifestFile) ([]manifestEntry, error) {
	b, err := open(ctx, mf.Path)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", mf.Path, err)
	}
	if int64(len(b)) != mf.Length {
		return nil, fmt.Errorf("manifest %s: %w: manifest_length %d, actual size %d", mf.Path, ErrMismatch, mf.Length, len(b))
	}
	entries, err := decodeAll[manifestEntry](b)
	if err != nil {
		return nil, fmt.Errorf("decoding manifest %s: %w: %w", mf.Path, ErrInvalidMetadata, err)
	}
	return entries, nil
}

// decodeAll decodes every record of an Avro object container file.
func decodeAll[T any](b []byte) ([]T, error) {
	dec, err := ocf.NewDecoder(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading avro header: %w", err)
	}
	var out []T
	for dec.HasNext() {
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("decoding record %d: %w", len(out), err)
		}
		out = append(out, v)
	}
	if err := dec.Error(); err != nil {
		return nil, fmt.Errorf("reading record %d: %w", len(out), err)
	}
	return out, nil
}

// checkCounts compares a manifest list row's counts, where present, with
// the manifest's entries.
func checkCounts(mf manifestFile, entries []manifestEntry) error {
	var files [3]int64
	var rows [3]int64
	for _, e := range entries {
		if e.Status < statusExisting || e.Status > statusDeleted {
			return fmt.Errorf("manifest %s: %w: entry %s has status %d", mf.Path, ErrInvalidMetadata, e.DataFile.FilePath, e.Status)
		}
		files[e.Status]++
		rows[e.Status] += e.DataFile.RecordCount
	}
	for _, c := range []struct {
		what   string
		listed any
		actual int64
	}{
		{"added_files_count", mf.AddedFilesCount, files[statusAdded]},
		{"existing_files_count", mf.ExistingFilesCount, files[statusExisting]},
		{"deleted_files_count", mf.DeletedFilesCount, files[statusDeleted]},
		{"added_rows_count", mf.AddedRowsCount, rows[statusAdded]},
		{"existing_rows_count", mf.ExistingRowsCount, rows[statusExisting]},
		{"deleted_rows_count", mf.DeletedRowsCount, rows[statusDeleted]},
	} {
		listed, ok, err := optionalInt(c.listed)
		if err != nil {
			return fmt.Errorf("manifest list entry %s: %w: %s: %w", mf.Path, ErrInvalidMetadata, c.what, err)
		}
		if ok && listed != c.actual {
			return fmt.Errorf("manifest %s: %w: manifest list says %s %d, manifest has %d", mf.Path, ErrMismatch, c.what, listed, c.actual)
		}
	}
	return nil
}

// optionalInt reads an Avro int or long decoded into an interface; ok is
// false for null.
func optionalInt(v any) (n int64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int:
		return int64(x), true, nil
	case int32:
		return int64(x), true, nil
	case int64:
		return x, true, nil
	}
	return 0, false, fmt.Errorf("unexpected value of type %T", v)
}
