package decode

import (
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// A Parquet file's metadata says how much to allocate, and arrow-go and
// Thrift believe it: a list declaring 50 million elements costs 400 MB
// before the 150-byte footer holding it runs out, a schema group declaring
// 2^31 children asks for 32 GB, a page header declaring 256 MiB gets
// 256 MiB. The checks here run before anything is allocated from what the
// metadata declares, so that a hostile file of a few KB costs a few MB (a
// page that genuinely decompresses to more is bounded by the file's
// decompression cap instead: pageLimitsFor). Every parquet-testing file
// that loaded before still loads.

const (
	// maxFooterBytes bounds a Parquet footer. It is parsed whole before a
	// row is read, into Go structures that take 7 to 20 times its size for
	// real files and up to 22 times for hostile ones (measured), so this
	// bounds what a footer can cost a worker at about 700 MB. Real
	// footers are far smaller: 100 columns × 1,000 row groups with
	// statistics is 9 MB.
	maxFooterBytes = 32 << 20
	// maxSchemaDepth bounds how deeply a Parquet schema nests. Each nested
	// list takes 2-3 levels, so this allows some twenty lists within
	// lists, while keeping arrow-go's recursive schema conversion (and
	// ours) shallow.
	maxSchemaDepth = 64

	schemaElemName     = 4 // SchemaElement.name: string
	schemaElemChildren = 5 // SchemaElement.num_children: i32
)

// maxExpansion is the most a page compressed with a codec can expand: no
// genuine page of a file of n bytes can decompress to more than n times
// this. 0 means the codec has no useful bound (Brotli's is in the
// millions) or is unknown.
func maxExpansion(c compress.Compression) int64 {
	switch c {
	case compress.Codecs.Uncompressed:
		return 1
	case compress.Codecs.Snappy:
		return 32 // a 3-byte copy writes at most 64 bytes
	case compress.Codecs.Lz4, compress.Codecs.Lz4Raw:
		return 256 // a length byte adds at most 255 bytes of output
	case compress.Codecs.Gzip:
		return 1100 // deflate's maximum is 1032
	case compress.Codecs.Zstd:
		return 32 << 10 // an RLE block: 4 bytes for 128 KiB
	}
	return 0
}

// schemaElem is what checkSchemaTree needs of a SchemaElement.
type schemaElem struct {
	name     string
	children int64
}

// checkFooter walks a footer's Thrift encoding before arrow-go parses it:
// every list, set, map, string and binary must fit in the bytes left, and
// the schema must be a tree whose groups have no more children than
// elements follow them, no two fields of a name, and no leaf path twice
// (arrow-go looks columns up by path, linearly among duplicates).
func checkFooter(footer []byte) error {
	c := &thriftCopier{in: footer}
	var elems []schemaElem
	err := c.walkStruct(0, func(id int16, typ byte, depth int) error {
		if id != fileMetaSchemaField || typ != tcList {
			return c.skip(typ, depth)
		}
		size, elem, err := c.listHeader()
		if err != nil {
			return err
		}
		if elem != tcStruct {
			return fmt.Errorf("%w: the schema is not a list of structs", errThrift)
		}
		elems = elems[:0] // the last list wins, as in Thrift
		for i := range size {
			var e schemaElem
			named := false
			err := c.walkStruct(depth+1, func(id int16, typ byte, depth int) error {
				switch {
				case id == schemaElemName && typ == tcBinary:
					b, err := c.binary()
					e.name, named = string(b), true
					return err
				case id == schemaElemChildren && typ == tcI32:
					v, err := c.varint()
					e.children = unzigzag(v)
					return err
				}
				return c.skip(typ, depth)
			})
			if err != nil {
				return err
			}
			if !named {
				// Thrift requires it, and a nameless element can be a
				// single byte: 32 MiB of them would cost us 800 MB.
				return fmt.Errorf("schema element %d has no name", i)
			}
			elems = append(elems, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return checkSchemaTree(elems)
}

// walkStruct reads a struct's fields, handing each to fn, which must
// consume the value.
func (c *thriftCopier) walkStruct(depth int, fn func(id int16, typ byte, depth int) error) error {
	if depth > maxThriftDepth {
		return errThriftDepth
	}
	var last int16
	for {
		id, typ, err := c.fieldHeader(last)
		if err != nil {
			return err
		}
		if typ == tcStop {
			return nil
		}
		if err := fn(id, typ, depth+1); err != nil {
			return err
		}
		last = id
	}
}

// binary reads a string or binary value.
func (c *thriftCopier) binary() ([]byte, error) {
	n, err := c.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(c.in)-c.pos) {
		return nil, fmt.Errorf("%w: a string declares %d bytes with %d left", errThrift, n, len(c.in)-c.pos)
	}
	b := c.in[c.pos : c.pos+int(n)]
	c.pos += int(n)
	return b, nil
}

// checkSchemaTree checks the flattened schema as arrow-go will rebuild it:
// depth first, each group followed by its children.
func checkSchemaTree(elems []schemaElem) error {
	if len(elems) == 0 {
		return nil // arrow-go says so
	}
	parent := make([]int, len(elems)) // for naming a duplicate path
	leaves := make(map[uint64]int)
	pos := 0
	// visit checks the element at pos and its subtree; h is the FNV-1a
	// state of its parent's path, which arrow-go joins with dots.
	var visit func(depth, from int, h uint64) error
	visit = func(depth, from int, h uint64) error {
		if pos == len(elems) {
			return fmt.Errorf("the schema's groups declare more fields than it has")
		}
		i := pos
		e := elems[i]
		parent[i] = from
		pos++
		if i > 0 {
			if from > 0 {
				h = fnvAdd(h, ".")
			}
			h = fnvAdd(h, e.name)
		}
		switch {
		case e.children < 0:
			return fmt.Errorf("schema field %q declares %d fields", e.name, e.children)
		case e.children > int64(len(elems)-pos):
			return fmt.Errorf("schema field %q declares %d fields, but %d elements follow it", e.name, e.children, len(elems)-pos)
		case e.children == 0 && i > 0:
			if j, dup := leaves[h]; dup && schemaPath(elems, parent, j) == schemaPath(elems, parent, i) {
				return fmt.Errorf("column %q appears twice", schemaPath(elems, parent, i))
			}
			leaves[h] = i
			return nil
		case e.children > 0 && depth == maxSchemaDepth:
			return fmt.Errorf("the schema nests deeper than %d levels", maxSchemaDepth)
		}
		names := make(map[string]bool, e.children)
		for range e.children {
			if pos < len(elems) {
				n := elems[pos].name
				if names[n] {
					return fmt.Errorf("column %q appears twice", joinPath(schemaPath(elems, parent, i), n))
				}
				names[n] = true
			}
			if err := visit(depth+1, i, h); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(0, 0, fnv.New64a().Sum64())
}

// fnvAdd continues an FNV-1a hash with s.
func fnvAdd(h uint64, s string) uint64 {
	const prime = 1099511628211
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// schemaPath is element i's dotted path, as arrow-go names columns.
func schemaPath(elems []schemaElem, parent []int, i int) string {
	var names []string
	for ; i > 0; i = parent[i] {
		names = append(names, elems[i].name)
	}
	for l, r := 0, len(names)-1; l < r; l, r = l+1, r-1 {
		names[l], names[r] = names[r], names[l]
	}
	return strings.Join(names, ".")
}

func joinPath(group, name string) string {
	if group == "" {
		return name
	}
	return group + "." + name
}

// checkFileMeta checks what the parsed footer says against the file: an
// Arrow schema arrow-go can read safely; row counts that are not negative,
// do not overflow and, at a byte a row, fit under the decompression cap;
// columns of Parquet's physical types; one column chunk per column, each
// within the file, in a codec arrow-go has.
func checkFileMeta(md *metadata.FileMetaData, size int64, lim decompressLimit) error {
	if md.NumRows < 0 {
		return fmt.Errorf("the file declares %d rows", md.NumRows)
	}
	if v := md.KeyValueMetadata().FindValue(arrowSchemaKey); v != nil {
		if err := checkArrowSchema(*v); err != nil {
			return err
		}
	}
	columns := md.Schema.NumColumns()
	for i := range columns {
		// arrow-go has no reader for another physical type: it makes a nil
		// one and panics on it, leaking the row group's buffers.
		col := md.Schema.Column(i)
		if t := col.PhysicalType(); t < parquet.Types.Boolean || t > parquet.Types.FixedLenByteArray {
			return fmt.Errorf("column %q has physical type %d, which is not a Parquet type", col.Path(), t)
		}
	}
	var rows int64
	for i, rg := range md.RowGroups {
		if rg.NumRows < 0 || rg.NumRows > math.MaxInt64-rows {
			return fmt.Errorf("row group %d declares %d rows", i, rg.NumRows)
		}
		rows += rg.NumRows
		if len(rg.Columns) != columns {
			return fmt.Errorf("row group %d has %d column chunks for %d columns", i, len(rg.Columns), columns)
		}
		for j, cc := range rg.Columns {
			m := cc.MetaData
			if m == nil {
				// Encrypted, or corrupt: arrow-go refuses it too, but only
				// once it has allocated the row group's readers, which it
				// then leaks.
				return fmt.Errorf("row group %d, column %d: column chunk metadata is missing (encrypted columns are not supported)", i, j)
			}
			start := m.DataPageOffset
			if m.DictionaryPageOffset != nil && *m.DictionaryPageOffset > 0 && *m.DictionaryPageOffset < start {
				start = *m.DictionaryPageOffset
			}
			if start < 0 || m.TotalCompressedSize < 0 || start > size || m.TotalCompressedSize > size-start {
				return fmt.Errorf("row group %d, column %d: its %d bytes at offset %d lie outside the file's %d bytes",
					i, j, m.TotalCompressedSize, start, size)
			}
			if m.NumValues < 0 {
				return fmt.Errorf("row group %d, column %d declares %d values", i, j, m.NumValues)
			}
			// arrow-go finds out only once it has allocated the column's
			// reader, which it then leaks.
			if _, err := compress.GetCodec(compress.Compression(m.Codec)); err != nil {
				return fmt.Errorf("row group %d, column %d: %w", i, j, err)
			}
		}
	}
	// Runs of repeated values take no space, so a few bytes can declare
	// billions of rows: count each as the byte it will at least decode to.
	if lim.max > 0 && rows > lim.max {
		return fmt.Errorf("the file declares %d rows in %d bytes; at a byte a row that passes the %d-byte cap %s sets for it: "+
			"raise %s if the file is genuine: %w", rows, size, lim.max, lim.knob, lim.knob, ErrLimit)
	}
	return nil
}

// pageLimits are the largest page bodies a file may declare, compressed
// and not; why explains the uncompressed one in an error.
type pageLimits struct {
	compressed, uncompressed int64
	why                      string
}

// pageLimitsFor bounds the pages of a file of size bytes. arrow-go
// allocates a page's declared sizes before reading it; no genuine page is
// larger than the file (compressed) or than the file times its codecs'
// maximum expansion, the decompression cap or maxPageSize (uncompressed).
func pageLimitsFor(md *metadata.FileMetaData, size int64, lim decompressLimit) pageLimits {
	l := pageLimits{
		compressed:   min(maxPageSize, max(size, 0)),
		uncompressed: maxPageSize,
		why:          fmt.Sprintf("pages over %d bytes are refused, to bound a worker's memory", int64(maxPageSize)),
	}
	if lim.max > 0 && lim.max < l.uncompressed {
		l.uncompressed = lim.max
		l.why = fmt.Sprintf("%s caps what this file may expand to at %d bytes; raise it if the file is genuine", lim.knob, lim.max)
	}
	expansion := int64(1)
	for _, rg := range md.RowGroups {
		for _, cc := range rg.Columns {
			if cc.MetaData == nil {
				continue
			}
			e := maxExpansion(compress.Compression(cc.MetaData.Codec))
			if e == 0 {
				return l
			}
			expansion = max(expansion, e)
		}
	}
	if size <= l.uncompressed/expansion {
		l.uncompressed = max(size, 0) * expansion
		l.why = fmt.Sprintf("no page of a %d-byte file in its codecs can expand to more than %d bytes", size, l.uncompressed)
	}
	return l
}

// explain adds why to arrow-go's refusal of a page over the limits, which
// it reports only as text.
func (l pageLimits) explain(err error) error {
	switch {
	case err == nil || !strings.Contains(err.Error(), "exceeds configured limit"):
		return err
	case strings.Contains(err.Error(), "uncompressed page size"):
		return fmt.Errorf("%w (%s)", err, l.why)
	case strings.Contains(err.Error(), "compressed page size"):
		return fmt.Errorf("%w (a page cannot be larger than the file)", err)
	}
	return err
}
