package flatparquet

import (
	"fmt"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// checkProps reports writer properties this package does not honour,
// which the caller must leave to pqarrow.
func checkProps(props *parquet.WriterProperties) error {
	switch {
	case props.DataPageVersion() != parquet.DataPageV1:
		return fmt.Errorf("data pages V2: only V1 are written")
	case props.FileEncryptionProperties() != nil:
		return fmt.Errorf("encryption is not supported")
	case props.MaxRowGroupLength() <= 0:
		return fmt.Errorf("max row group length %d", props.MaxRowGroupLength())
	case props.WriteBatchSize() <= 0:
		return fmt.Errorf("write batch size %d", props.WriteBatchSize())
	}
	return nil
}

// checkColumn reports properties of column col this package does not
// honour.
func checkColumn(col *schema.Column, props *parquet.WriterProperties) error {
	path := col.Path()
	switch {
	case props.DictionaryEnabledFor(path) && col.PhysicalType() != parquet.Types.ByteArray:
		return fmt.Errorf("dictionary encoding is enabled for a %s column: only byte arrays have one here (parquet.WithDictionaryDefault(false))", col.PhysicalType())
	case props.DictionaryEnabledFor(path) && props.EncodingFor(path) != parquet.Encodings.Plain:
		return fmt.Errorf("dictionary encoding falls back to %s: only to PLAIN", props.EncodingFor(path))
	case props.PageIndexEnabledFor(path):
		return fmt.Errorf("page indexes are not supported")
	case props.BloomFilterEnabledFor(path):
		return fmt.Errorf("bloom filters are not supported")
	}
	enc := props.EncodingFor(path)
	switch {
	case enc == parquet.Encodings.Plain:
	case enc == parquet.Encodings.DeltaBinaryPacked && (col.PhysicalType() == parquet.Types.Int32 || col.PhysicalType() == parquet.Types.Int64):
	case enc == parquet.Encodings.ByteStreamSplit && (col.PhysicalType() == parquet.Types.Float || col.PhysicalType() == parquet.Types.Double):
	default:
		return fmt.Errorf("encoding %s is not supported for %s", enc, col.PhysicalType())
	}
	if codec := props.CompressionFor(path); codec != compress.Codecs.Uncompressed {
		if _, err := compress.GetCodec(codec); err != nil {
			return err
		}
	}
	return nil
}
