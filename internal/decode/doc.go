// Package decode owns turning one source file into Apache Arrow record
// batches: sniffing its compression and format, inferring a schema from a
// bounded sample, and decoding CSV, JSON and Parquet into a table's schema.
// It also owns the schema helpers the coordinator and workers share (the
// IPC encoding carried on tasks, the manifest's field list, user-declared
// types) and the rule for which listed keys are not data files.
//
// Errors come in two kinds. SchemaError and DataError describe the file
// itself and are permanent: retrying cannot help. Everything the Object
// returns (network errors, a changed ETag) is wrapped with %w and never
// turned into a DataError, even when it surfaces inside a decompressor or
// a decoder, so callers can decide whether to retry. A panic in a decoder
// (arrow-go panics on some corrupt Parquet) becomes a DataError.
//
// Hostile input fails alone: a compressed file stops with a LimitError as
// soon as it expands past its cap (Options.MaxDecompressedBytes and
// MaxCompressionRatio); CSV and JSON stream, and only whole-file compressed
// Parquet is decompressed to a temporary file, charged to Options.Temp. A
// temporary budget spent by other files is a transient error
// (tempspace.ErrFull); one file needing more than all of it is permanent.
// Parquet footers and page headers are checked against the file before
// anything they declare is allocated (parquet_check.go).
//
// Content beats labels: gzip, zstd and bzip2 are recognised by their magic
// bytes whatever the name or Options say, and a file labelled CSV or JSON
// whose content starts with Parquet's magic is refused as mislabelled.
//
// Speed: the CSV and JSON decoders read into a buffer of their own and
// parse values where they lie, straight into the memory of the Arrow
// arrays they emit (columns.go): no per-value builder calls and no
// allocation per row. CSV rows without quotes take a fast path
// (csv_fast.go) that parses each value while finding its end; every other
// row, and every error, goes through the general path, which the fast
// path must match exactly (FuzzCSV checks). docs/performance.md has the
// figures and how to reproduce them.
//
// Type and matching rules:
//   - CSV inference yields int64, float64, bool, date32 (2006-01-02),
//     timestamp[us, tz=UTC] (RFC 3339 or "2006-01-02 15:04:05" with an
//     optional fraction; no offset means UTC) or utf8, widening
//     int64 → float64 → utf8 and date32 → timestamp. Integers with a
//     leading zero ("007") stay utf8 so identifiers keep their digits.
//     An all-null column is utf8. Quoted fields are never null.
//   - A CSV header is matched to the table's columns by name, in any order;
//     without a header, columns match by position.
//   - JSON inference yields int64, float64, bool or utf8. Nested objects
//     and arrays are kept as their compact JSON text in a utf8 column;
//     decoding into a table whose column is a struct, list or map type
//     builds the nested value instead. Missing keys are nulls; a key the
//     table lacks is a SchemaError when the sample shows it and a
//     DataError when it first appears later.
//   - Parquet keeps the file's own Arrow schema, except that INT96
//     timestamps (Spark, Impala) become timestamp[us]: nanoseconds cannot
//     hold the years such files carry. Logical types newer than arrow-go
//     are read as their physical type, and maps arrow-go refuses (optional
//     keys) as lists of key-value structs. This package registers the
//     Parquet LZ4 codec (Hadoop framing or bare blocks) with arrow-go.
package decode
