package flatparquet

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// arrowSchemaKey is the footer key under which pqarrow stores the Arrow
// schema, and readers look for it to get back the exact Arrow types
// (time zones, large types, unsigned integers).
const arrowSchemaKey = "ARROW:schema"

// footerMetadata is the footer's key-value metadata as pqarrow writes it:
// the schema's own metadata, then, if store, the Arrow schema.
func footerMetadata(sc *arrow.Schema, mem memory.Allocator, store bool) (metadata.KeyValueMetadata, error) {
	kv := make(metadata.KeyValueMetadata, 0)
	md := sc.Metadata()
	for i, k := range md.Keys() {
		if err := kv.Append(k, md.Values()[i]); err != nil {
			return nil, err
		}
	}
	if !store {
		return kv, nil
	}
	serialized, err := serializeSchema(sc, mem)
	if err != nil {
		return nil, fmt.Errorf("storing the Arrow schema: %w", err)
	}
	if err := kv.Append(arrowSchemaKey, base64.StdEncoding.EncodeToString(serialized)); err != nil {
		return nil, err
	}
	return kv, nil
}

// serializeSchema is what pqarrow stores (through flight.SerializeSchema):
// an IPC stream of the schema and no batches. pqarrow first renames list
// elements; a flat schema has none, so it is stored as it is, rebuilt the
// same way.
func serializeSchema(sc *arrow.Schema, mem memory.Allocator) ([]byte, error) {
	meta := sc.Metadata()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(arrow.NewSchema(sc.Fields(), &meta)), ipc.WithAllocator(mem))
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
