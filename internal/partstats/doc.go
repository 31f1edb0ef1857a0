// Package partstats owns the description of a written Parquet part as an
// Iceberg data file lists it: row count, size, and per field ID the
// column's compressed size, value and null counts, and lower and upper
// bounds in Iceberg's single-value binary serialization.
//
// It reads only the Parquet footer, so a worker describes a part from the
// metadata it just wrote and the coordinator commits parts without
// opening them. With pqarrow the footer is at hand after writing:
// pqarrow.FileWriter.FileMetadata, called after Close, returns the
// FileMetaData that was written to the file, ready for FromFooter.
// FromFile reads the footer back from the bytes instead.
//
// Bounds are given only where the footer's statistics are exact and the
// Parquet type maps onto one Iceberg type unambiguously; anything else
// keeps its counts and loses its bounds, which Iceberg treats as unknown.
package partstats
