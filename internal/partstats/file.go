package partstats

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/s3load/s3load/messages"
)

// FromFile describes a part from the footer of the Parquet file of size
// bytes that r reads, for when the writer's FileMetaData is not at hand.
func FromFile(r io.ReaderAt, size int64) (messages.PartStats, error) {
	rdr, err := file.NewParquetReader(io.NewSectionReader(r, 0, size))
	if err != nil {
		return messages.PartStats{}, fmt.Errorf("reading footer: %w", err)
	}
	defer rdr.Close()
	return FromFooter(rdr.MetaData(), size)
}
