// Package flatparquet writes Arrow record batches of flat schemas to Parquet
// files: the same files pqarrow.FileWriter writes for them (the Parquet
// schema pqarrow.ToParquet gives, PLAIN or the column's asked-for encoding,
// dictionaries for byte arrays where asked, data pages V1, the same statistics in page headers and column chunks, the
// Arrow schema in the footer; byte for byte the same unless a page holds
// some nulls, whose definition levels are encoded differently) at a third
// of the cost outside compression: on s3load's 7-column benchmark with
// zstd it writes 1.57 times as many rows a second (BenchmarkWrite).
//
// It exists because, besides compression, most of arrow-go's writing time
// is overhead that cannot be tuned from outside: pooled buffers cleared on
// every page, buffers reallocated and zeroed as they grow, statistics
// computed value by value through closures, byte arrays encoded value by
// value. Here each column's page is encoded with tight typed loops straight
// from the Arrow buffers into buffers reused for the whole file, and only
// what arrow-go does well is left to it: page headers, compression (through
// the registered codecs), column chunk metadata and the footer.
//
// It owns encoding (PLAIN, DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT,
// dictionaries of byte arrays),
// definition levels and statistics for top-level columns of primitive,
// string and binary types; Supported says which schemas those are, and
// anything else is pqarrow's.
//
// It reads such columns too. ColumnReader decodes one column chunk's pages
// (PLAIN, dictionary, RLE booleans, the DELTA encodings,
// BYTE_STREAM_SPLIT; data pages V1 and V2) straight into Arrow buffers
// allocated once per batch at their final size, where pqarrow's record
// reader spends about a third of reading a snappy file growing, zeroing
// and copying buffers; on the wide shape it reads about 1.8 times as fast
// (BenchmarkRead). Page headers, decompression and checksums stay arrow-go's
// (its PageReader); ReadSupported says which columns ColumnReader reads.
// Corrupt pages are errors, never panics or unbounded allocations.
package flatparquet
