package lakecheck_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/hamba/avro/v2/ocf"
)

// readAvro decodes every record of a local Avro file generically.
func readAvro(t *testing.T, path string) (string, []map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	dec, err := ocf.NewDecoder(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("opening avro %s: %v", path, err)
	}
	var recs []map[string]any
	for dec.HasNext() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("decoding %s: %v", path, err)
		}
		recs = append(recs, rec)
	}
	if err := dec.Error(); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return dec.Schema().String(), recs
}

// rewriteAvro rewrites a local Avro file in place with its own schema and
// metadata after change has edited its records, and returns its new size.
func rewriteAvro(t *testing.T, path string, change func(rec map[string]any)) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	dec, err := ocf.NewDecoder(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("opening avro %s: %v", path, err)
	}
	meta := map[string][]byte{}
	for k, v := range dec.Metadata() {
		if k != "avro.schema" && k != "avro.codec" {
			meta[k] = v
		}
	}
	var out bytes.Buffer
	enc, err := ocf.NewEncoderWithSchema(dec.Schema(), &out, ocf.WithMetadata(meta), ocf.WithCodec(ocf.Deflate))
	if err != nil {
		t.Fatalf("creating avro encoder: %v", err)
	}
	for dec.HasNext() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("decoding %s: %v", path, err)
		}
		change(rec)
		if err := enc.Encode(rec); err != nil {
			t.Fatalf("encoding %s: %v", path, err)
		}
	}
	if err := dec.Error(); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	if err := enc.Close(); err != nil {
		t.Fatalf("closing encoder: %v", err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return int64(out.Len())
}
