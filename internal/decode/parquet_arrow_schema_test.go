package decode

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ipcSchema is schema as Arrow's Parquet writer stores it: an IPC schema
// message, its flatbuffer and the Schema table in it.
type ipcSchema struct {
	raw    []byte
	fb     flatbuf
	fbAt   int // where the flatbuffer starts in raw
	schema fbTable
}

func newIPCSchema(t *testing.T, schema *arrow.Schema) *ipcSchema {
	t.Helper()
	raw := flight.SerializeSchema(schema, memory.DefaultAllocator)
	s := &ipcSchema{raw: raw, fbAt: 8}
	size := int(binary.LittleEndian.Uint32(raw[4:]))
	s.fb = flatbuf(raw[8 : 8+size])
	msg, err := s.fb.root()
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	if s.schema, ok, err = msg.table(fbMessageHeader); !ok || err != nil {
		t.Fatalf("no schema: %v", err)
	}
	return s
}

func (s *ipcSchema) encoded() string { return base64.StdEncoding.EncodeToString(s.raw) }

func (s *ipcSchema) put32(at int, v uint32) { binary.LittleEndian.PutUint32(s.fb[at:], v) }

// vectorAt is where field i of t stores its vector's length, and where the
// elements start.
func (s *ipcSchema) vectorAt(t *testing.T, tb fbTable, i int) (lengthAt, start int) {
	t.Helper()
	start, n, err := tb.vector(i, 4)
	if err != nil || n == 0 {
		t.Fatalf("no vector in slot %d: %v", i, err)
	}
	return start - 4, start
}

// field is the k'th table of the Field vector in slot of tb.
func (s *ipcSchema) field(t *testing.T, tb fbTable, slot, k int) fbTable {
	t.Helper()
	_, start := s.vectorAt(t, tb, slot)
	f, err := s.fb.tableAt(start + 4*k)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCheckArrowSchemaAcceptsWhatArrowWrites(t *testing.T) {
	union := arrow.SparseUnionOf([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
	}, []arrow.UnionTypeCode{3, 7})
	schemaMeta := arrow.NewMetadata([]string{"k"}, []string{"v"})
	schemas := []*arrow.Schema{
		arrow.NewSchema(nil, nil),
		arrow.NewSchema([]arrow.Field{
			{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Metadata: arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{"1"})},
			{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Europe/Paris"}},
			{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.LargeString}},
			{Name: "u", Type: union, Nullable: true},
			{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.ListOf(arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float32})))},
		}, &schemaMeta),
	}
	for _, schema := range schemas {
		s := newIPCSchema(t, schema)
		if err := checkArrowSchema(s.encoded()); err != nil {
			t.Errorf("%v: %v", schema, err)
		}
		// Unpadded base64, which arrow-go also reads.
		if err := checkArrowSchema(base64.RawStdEncoding.EncodeToString(s.raw)); err != nil {
			t.Errorf("%v unpadded: %v", schema, err)
		}
	}
}

// TestCheckArrowSchemaRefusesLies checks each way an ARROW:schema value
// can make arrow-go allocate or recurse without bound.
func TestCheckArrowSchemaRefusesLies(t *testing.T) {
	nested := arrow.PrimitiveTypes.Int32
	for range 30 {
		nested = arrow.StructOf(arrow.Field{Name: "c", Type: arrow.PrimitiveTypes.Int8}, arrow.Field{Name: "s", Type: nested})
	}
	deep := arrow.DataType(arrow.PrimitiveTypes.Int32)
	for range maxSchemaDepth {
		deep = arrow.ListOf(deep)
	}
	tooDeep := arrow.NewSchema([]arrow.Field{{Name: "l", Type: deep}}, nil)
	base := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32}), Metadata: arrow.NewMetadata([]string{"k"}, []string{"v"})},
		{Name: "n", Type: nested},
	}, nil)
	tests := []struct {
		name string
		lie  func(t *testing.T, s *ipcSchema)
		msg  string
	}{
		{"nested too deep", nil, "fields nest deeper than 64 levels"},
		{"fields vector of 2^30", func(t *testing.T, s *ipcSchema) {
			at, _ := s.vectorAt(t, s.schema, fbSchemaFields)
			s.put32(at, 1<<30)
		}, "a vector of 1073741824 elements"},
		{"field metadata of 2^31", func(t *testing.T, s *ipcSchema) {
			at, _ := s.vectorAt(t, s.field(t, s.schema, fbSchemaFields, 0), fbFieldMetadata)
			s.put32(at, 1<<31)
		}, "a vector of 2147483648 elements"},
		{"children of 2^28", func(t *testing.T, s *ipcSchema) {
			at, _ := s.vectorAt(t, s.field(t, s.schema, fbSchemaFields, 0), fbFieldChildren)
			s.put32(at, 1<<28)
		}, "a vector of 268435456 elements"},
		// Offsets only point forward; arrow-go's wrap around.
		{"a field its own child", func(t *testing.T, s *ipcSchema) {
			f := s.field(t, s.schema, fbSchemaFields, 0)
			_, start := s.vectorAt(t, f, fbFieldChildren)
			s.put32(start, uint32(f.pos-start))
		}, "an offset outside"},
		{"children shared, 2^30 paths", func(t *testing.T, s *ipcSchema) {
			// Point each level's first child at its second: every path
			// through the 30 levels leads to the same tables.
			f := s.field(t, s.schema, fbSchemaFields, 1)
			for {
				start, n, err := f.vector(fbFieldChildren, 4)
				if err != nil || n != 2 {
					return
				}
				second, _ := s.fb.tableAt(start + 4)
				s.put32(start, uint32(second.pos-start))
				f = second
			}
		}, "more fields than it has room for"},
		{"message of 1 GiB", func(t *testing.T, s *ipcSchema) {
			binary.LittleEndian.PutUint32(s.raw[4:], 1<<30)
		}, "a message of 1073741824 bytes"},
		// flatbuffers reads a slot whose offset is under the vtable's size
		// even when an odd size cuts its second byte off (found by
		// FuzzParquet: arrow-go asked for 34 GB of message body).
		{"body length in an odd vtable's cut-off slot", func(t *testing.T, s *ipcSchema) {
			// The message's vtable ends before the body length's slot, and
			// the table follows it: one byte more makes the table's first
			// two bytes (its offset back to the vtable) the slot.
			msg, _ := s.fb.root()
			if at := 4 + 2*fbMessageBodyLength; msg.vtLen != at || msg.pos != msg.vt+at {
				t.Fatalf("the message's vtable is %d bytes at %d, its table at %d", msg.vtLen, msg.vt, msg.pos)
			}
			binary.LittleEndian.PutUint16(s.fb[msg.vt:], 4+2*fbMessageBodyLength+1)
		}, "a message body of"},
		{"vtable outside", func(t *testing.T, s *ipcSchema) {
			f := s.field(t, s.schema, fbSchemaFields, 0)
			s.put32(f.pos, 1<<31-1)
		}, "vtable outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s *ipcSchema
			if tc.lie == nil {
				s = newIPCSchema(t, tooDeep)
			} else {
				s = newIPCSchema(t, base)
				tc.lie(t, s)
			}
			err := checkArrowSchema(s.encoded())
			if !errors.Is(err, errArrowSchema) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

// TestHostileArrowSchemaInParquet puts a lying ARROW:schema into a real
// file's footer: the file fails alone, cheaply.
func TestHostileArrowSchemaInParquet(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	src := &pqSource{name: "x", ra: bytes.NewReader(data), size: int64(len(data))}
	footer, err := readFooterBytes(src)
	if err != nil {
		t.Fatal(err)
	}
	md, err := parseFooter(footer)
	if err != nil {
		t.Fatal(err)
	}
	v := md.KeyValueMetadata().FindValue(arrowSchemaKey)
	if v == nil {
		t.Fatal("no ARROW:schema written")
	}
	s := newIPCSchema(t, schema)
	at, _ := s.vectorAt(t, s.schema, fbSchemaFields)
	s.put32(at, 1<<24) // 1.3 GB of arrow.Field
	*v = s.encoded()
	lied, err := md.Serialize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	body := data[:len(data)-8-len(footer)]
	file := binary.LittleEndian.AppendUint32(append(bytes.Clone(body), lied...), uint32(len(lied)))
	file = append(file, parquetMagic...)

	c := costOf(&memObject{name: "s3://b/lie.parquet", data: file}, defaultLimits)
	t.Logf("%d-byte file: %d bytes of Go heap, Arrow peak %d: %v", len(file), c.goBytes, c.arrowPeak, c.err)
	if !IsPermanent(c.err) || !strings.Contains(c.err.Error(), "s3://b/lie.parquet: corrupt Parquet footer: corrupt ARROW:schema metadata: a vector of 16777216 elements") {
		t.Errorf("error %v", c.err)
	}
	if c.goBytes > 4<<20 {
		t.Errorf("cost %d bytes of Go heap", c.goBytes)
	}
	if _, ok, err := ParquetCopyable(t.Context(), &memObject{name: "s3://b/lie.parquet", data: file}, Options{Schema: schema}); ok || err != nil {
		t.Errorf("ParquetCopyable: %v, %v", ok, err)
	}
}
