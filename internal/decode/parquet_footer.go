package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Parquet's footer is a Thrift compact-protocol FileMetaData. arrow-go
// panics on a logical type newer than it knows (a union member it does not
// recognise); readers are meant to ignore such annotations and read the
// physical type. dropUnknownLogicalTypes rewrites the footer without them.
// Only the parts of the protocol needed to walk the schema are decoded;
// everything else is copied byte for byte.

// knownLogicalType reports whether arrow-go v18.8.0 understands a
// LogicalType union member (9 is unused in the format).
func knownLogicalType(id int16) bool {
	return id >= 1 && id <= 18 && id != 9
}

// Thrift compact-protocol type codes.
const (
	tcStop   = 0
	tcTrue   = 1
	tcFalse  = 2
	tcByte   = 3
	tcI16    = 4
	tcI32    = 5
	tcI64    = 6
	tcDouble = 7
	tcBinary = 8
	tcList   = 9
	tcSet    = 10
	tcMap    = 11
	tcStruct = 12
	tcUUID   = 13
)

const (
	fileMetaSchemaField  = 2  // FileMetaData.schema: list<SchemaElement>
	schemaElemConverted  = 6  // SchemaElement.converted_type: i32 enum
	schemaElemLogicalFld = 10 // SchemaElement.logicalType: LogicalType
	maxThriftDepth       = 64

	convertedMap         = 1 // ConvertedType MAP
	convertedMapKeyValue = 2 // ConvertedType MAP_KEY_VALUE
	convertedList        = 3 // ConvertedType LIST
	logicalMap           = 2 // LogicalType union member MAP
)

// listLogicalType is a LogicalType union holding LIST: a field header
// (delta 3, struct), ListType's empty body (stop), the union's stop.
var listLogicalType = []byte{0x3c, 0x00, 0x00}

var (
	errThrift      = errors.New("malformed footer")
	errThriftEnd   = fmt.Errorf("%w: it ends inside a value", errThrift)
	errThriftDepth = fmt.Errorf("%w: structures nest deeper than %d", errThrift, maxThriftDepth)
)

type thriftCopier struct {
	in      []byte
	pos     int
	out     []byte
	maps    bool // relabel MAP groups as LIST (see relabelMaps)
	dropped int  // annotations removed or changed
}

// dropUnknownLogicalTypes returns footer without the logicalType of any
// schema element whose logical type is unknown, and how many it removed.
func dropUnknownLogicalTypes(footer []byte) ([]byte, int, error) {
	c := &thriftCopier{in: footer, out: make([]byte, 0, len(footer))}
	if err := c.copyStruct(0, c.fileMetaField); err != nil {
		return nil, 0, fmt.Errorf("rewriting footer: %w", err)
	}
	c.out = append(c.out, c.in[c.pos:]...)
	return c.out, c.dropped, nil
}

// relabelMaps returns footer with every MAP annotation turned into LIST
// and MAP_KEY_VALUE annotations dropped, and how many it changed. arrow-go
// refuses maps whose keys are optional (old Hive writers made them so);
// read as a list, such a map is a list<struct<key, value>> holding the
// same data.
func relabelMaps(footer []byte) ([]byte, int, error) {
	c := &thriftCopier{in: footer, out: make([]byte, 0, len(footer)), maps: true}
	if err := c.copyStruct(0, c.fileMetaField); err != nil {
		return nil, 0, fmt.Errorf("rewriting footer: %w", err)
	}
	c.out = append(c.out, c.in[c.pos:]...)
	return c.out, c.dropped, nil
}

// fieldFunc handles one field of a struct being copied; it returns false
// to drop the field (the value must then have been skipped).
type fieldFunc func(id int16, typ byte, depth int) (keep bool, err error)

func (c *thriftCopier) fileMetaField(id int16, typ byte, depth int) (bool, error) {
	if id != fileMetaSchemaField || typ != tcList {
		return true, c.copyValue(typ, depth)
	}
	size, elem, err := c.copyListHeader()
	if err != nil {
		return false, err
	}
	for range size {
		if elem != tcStruct {
			if err := c.copyValue(elem, depth); err != nil {
				return false, err
			}
			continue
		}
		if err := c.copyStruct(depth+1, c.schemaElemField); err != nil {
			return false, err
		}
	}
	return true, nil
}

func (c *thriftCopier) schemaElemField(id int16, typ byte, depth int) (bool, error) {
	switch {
	case c.maps && id == schemaElemConverted && typ == tcI32:
		start := c.pos
		v, err := c.varint()
		if err != nil {
			return false, err
		}
		switch unzigzag(v) {
		case convertedMap:
			c.out = binary.AppendUvarint(c.out, zigzag(convertedList))
			c.dropped++
			return true, nil
		case convertedMapKeyValue:
			c.dropped++
			return false, nil
		}
		c.out = append(c.out, c.in[start:c.pos]...)
		return true, nil
	case id != schemaElemLogicalFld || typ != tcStruct:
		return true, c.copyValue(typ, depth)
	}
	// Peek at the union's member: the first field header inside it.
	save := c.pos
	member, _, err := c.fieldHeader(0)
	if err != nil {
		return false, err
	}
	c.pos = save
	switch {
	case c.maps && member == logicalMap:
		if err := c.skip(typ, depth); err != nil {
			return false, err
		}
		c.out = append(c.out, listLogicalType...)
		c.dropped++
		return true, nil
	case c.maps || member == 0 || knownLogicalType(member):
		return true, c.copyValue(typ, depth)
	}
	if err := c.skip(typ, depth); err != nil {
		return false, err
	}
	c.dropped++
	return false, nil
}

// copyStruct copies a struct's fields, letting fn decide on each. After a
// dropped field, the next header is written in long form, whose absolute
// id does not depend on the previous field.
func (c *thriftCopier) copyStruct(depth int, fn fieldFunc) error {
	if depth > maxThriftDepth {
		return errThriftDepth
	}
	var last int16
	longForm := false
	for {
		start := c.pos
		id, typ, err := c.fieldHeader(last)
		if err != nil {
			return err
		}
		if typ == tcStop {
			c.out = append(c.out, tcStop)
			return nil
		}
		headerEnd := c.pos
		mark := len(c.out)
		if longForm {
			c.out = append(c.out, typ)
			c.out = binary.AppendUvarint(c.out, zigzag(int64(id)))
		} else {
			c.out = append(c.out, c.in[start:headerEnd]...)
		}
		keep, err := fn(id, typ, depth+1)
		if err != nil {
			return err
		}
		if !keep {
			c.out = c.out[:mark]
			longForm = true
		} else {
			longForm = false
		}
		last = id
	}
}

// fieldHeader reads a field header; bool fields carry their value in typ.
func (c *thriftCopier) fieldHeader(last int16) (int16, byte, error) {
	b, err := c.byte()
	if err != nil {
		return 0, 0, err
	}
	typ := b & 0x0f
	if typ == tcStop {
		return 0, tcStop, nil
	}
	if delta := int16(b >> 4); delta != 0 {
		return last + delta, typ, nil
	}
	v, err := c.varint()
	if err != nil {
		return 0, 0, err
	}
	return int16(unzigzag(v)), typ, nil
}

func (c *thriftCopier) copyValue(typ byte, depth int) error {
	start := c.pos
	if err := c.skip(typ, depth); err != nil {
		return err
	}
	c.out = append(c.out, c.in[start:c.pos]...)
	return nil
}

func (c *thriftCopier) copyListHeader() (int, byte, error) {
	start := c.pos
	size, elem, err := c.listHeader()
	if err != nil {
		return 0, 0, err
	}
	c.out = append(c.out, c.in[start:c.pos]...)
	return size, elem, nil
}

func (c *thriftCopier) listHeader() (int, byte, error) {
	b, err := c.byte()
	if err != nil {
		return 0, 0, err
	}
	size := int(b >> 4)
	if size == 15 {
		v, err := c.varint()
		if err != nil {
			return 0, 0, err
		}
		size = int(v)
	}
	if size < 0 || size > len(c.in)-c.pos {
		// Every element takes at least a byte.
		return 0, 0, fmt.Errorf("%w: a list declares %d elements with %d bytes left", errThrift, size, len(c.in)-c.pos)
	}
	return size, b & 0x0f, nil
}

// skip moves past one value of type typ.
func (c *thriftCopier) skip(typ byte, depth int) error {
	if depth > maxThriftDepth {
		return errThriftDepth
	}
	switch typ {
	case tcTrue, tcFalse:
		// In a struct the value is in the header; in a list it is a byte.
		return nil
	case tcByte:
		_, err := c.byte()
		return err
	case tcI16, tcI32, tcI64:
		_, err := c.varint()
		return err
	case tcDouble:
		return c.advance(8)
	case tcUUID:
		return c.advance(16)
	case tcBinary:
		n, err := c.varint()
		if err != nil {
			return err
		}
		if n > uint64(len(c.in)-c.pos) {
			return fmt.Errorf("%w: a string declares %d bytes with %d left", errThrift, n, len(c.in)-c.pos)
		}
		return c.advance(int(n))
	case tcList, tcSet:
		size, elem, err := c.listHeader()
		if err != nil {
			return err
		}
		for range size {
			if elem == tcTrue || elem == tcFalse {
				if _, err := c.byte(); err != nil {
					return err
				}
				continue
			}
			if err := c.skip(elem, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tcMap:
		n, err := c.varint()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n > uint64(len(c.in)-c.pos) {
			return fmt.Errorf("%w: a map declares %d entries with %d bytes left", errThrift, n, len(c.in)-c.pos)
		}
		kv, err := c.byte()
		if err != nil {
			return err
		}
		for range n {
			for _, t := range []byte{kv >> 4, kv & 0x0f} {
				if t == tcTrue || t == tcFalse {
					if _, err := c.byte(); err != nil {
						return err
					}
					continue
				}
				if err := c.skip(t, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	case tcStruct:
		var last int16
		for {
			id, t, err := c.fieldHeader(last)
			if err != nil {
				return err
			}
			if t == tcStop {
				return nil
			}
			if err := c.skip(t, depth+1); err != nil {
				return err
			}
			last = id
		}
	}
	return fmt.Errorf("%w: unknown type %d", errThrift, typ)
}

func (c *thriftCopier) byte() (byte, error) {
	if c.pos >= len(c.in) {
		return 0, errThriftEnd
	}
	b := c.in[c.pos]
	c.pos++
	return b, nil
}

func (c *thriftCopier) advance(n int) error {
	if n < 0 || n > len(c.in)-c.pos {
		return errThriftEnd
	}
	c.pos += n
	return nil
}

func (c *thriftCopier) varint() (uint64, error) {
	v, n := binary.Uvarint(c.in[c.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: a bad varint", errThrift)
	}
	c.pos += n
	return v, nil
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
