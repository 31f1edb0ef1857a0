package lakecheck

import "errors"

// Sentinel errors for the checks callers may want to tell apart.
var (
	// ErrMismatch: metadata says one thing about a file and the file another
	// (record count, size, counts in the manifest list or snapshot summary).
	ErrMismatch = errors.New("metadata does not match the files")
	// ErrNoFieldIDs: a Parquet data file lacks Iceberg field ids.
	ErrNoFieldIDs = errors.New("parquet file without field ids")
	// ErrDeleteFiles: the snapshot has equality delete files, which the
	// checker does not apply (position deletes it does).
	ErrDeleteFiles = errors.New("equality delete files not supported by the checker")
	// ErrSnapshotNotFound: the snapshot asked for is not in the metadata.
	ErrSnapshotNotFound = errors.New("snapshot not found")
	// ErrInvalidMetadata: metadata.json, a manifest list or a manifest is
	// malformed or breaks a rule of the Iceberg spec.
	ErrInvalidMetadata = errors.New("invalid iceberg metadata")
	// ErrUnsupportedLocation: the Opener cannot read this kind of location.
	ErrUnsupportedLocation = errors.New("unsupported location")
)
