package decode

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// Files written by Arrow carry their Arrow schema in the footer's
// key-value metadata ("ARROW:schema": an IPC schema message, base64).
// arrow-go reads that flatbuffer without verifying it: a vector's declared
// length becomes make's length (a 504-byte file asked for 10 GB), the
// message's declared lengths become buffers, and children are followed
// wherever they point, so a field that is its own child recurses until the
// stack overflows, which no recover survives. checkArrowSchema walks the
// message first, bounding every length arrow-go allocates by and the tree
// it recurses into.

const arrowSchemaKey = "ARROW:schema"

// Flatbuffer field slots of the Arrow IPC schema (Message.fbs, Schema.fbs).
const (
	fbMessageHeaderType = 1
	fbMessageHeader     = 2
	fbMessageBodyLength = 3
	fbMessageMetadata   = 4
	fbSchemaFields      = 1
	fbSchemaMetadata    = 2
	fbSchemaFeatures    = 3
	fbFieldTypeType     = 2
	fbFieldType         = 3
	fbFieldChildren     = 5
	fbFieldMetadata     = 6
	fbUnionTypeIDs      = 1

	fbHeaderSchema = 1  // MessageHeader.Schema
	fbTypeUnion    = 14 // Type.Union
)

var errArrowSchema = errors.New("corrupt ARROW:schema metadata")

// checkArrowSchema checks a footer's ARROW:schema value as arrow-go
// (pqarrow.getOriginSchema) will read it. Values arrow-go refuses without
// harm (bad base64, too short to hold a message) pass: it reports them.
func checkArrowSchema(serialized string) error {
	var b []byte
	var err error
	if len(serialized)%4 == 0 {
		b, err = base64.StdEncoding.DecodeString(serialized)
	}
	if len(b) == 0 || err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(serialized); err != nil {
			return nil
		}
	}
	if len(b) < 8 {
		return nil
	}
	size, meta := int64(int32(binary.LittleEndian.Uint32(b))), b[4:]
	if uint32(size) == 0xFFFFFFFF { // continuation marker, then the size
		size, meta = int64(int32(binary.LittleEndian.Uint32(b[4:]))), b[8:]
	}
	if size <= 0 {
		return nil // the end of the stream, or a size arrow-go refuses
	}
	if size > int64(len(meta)) {
		return fmt.Errorf("%w: a message of %d bytes in %d", errArrowSchema, size, len(meta))
	}
	fb := flatbuf(meta[:size])
	msg, err := fb.root()
	if err != nil {
		return err
	}
	if body, ok, err := msg.int64(fbMessageBodyLength); err != nil {
		return err
	} else if ok && (body < 0 || body > int64(len(meta))-size) {
		return fmt.Errorf("%w: a message body of %d bytes in %d", errArrowSchema, body, int64(len(meta))-size)
	}
	if err := fb.checkKeyValues(msg, fbMessageMetadata); err != nil {
		return err
	}
	if typ, _, err := msg.uint8(fbMessageHeaderType); err != nil || typ != fbHeaderSchema {
		return err // arrow-go refuses other messages
	}
	schema, ok, err := msg.table(fbMessageHeader)
	if err != nil || !ok {
		return err
	}
	if err := fb.checkKeyValues(schema, fbSchemaMetadata); err != nil {
		return err
	}
	if _, _, err := schema.vector(fbSchemaFeatures, 8); err != nil {
		return err
	}
	// A tree of distinct tables has at most a field per 4 bytes; more
	// visits mean fields shared among parents, whose expansion arrow-go
	// would walk exponentially.
	budget := len(fb) / 4
	return fb.checkFields(schema, fbSchemaFields, 0, &budget)
}

// checkFields checks the vector of Field tables in slot of t, and their
// children to maxSchemaDepth.
func (fb flatbuf) checkFields(t fbTable, slot, depth int, budget *int) error {
	start, n, err := t.vector(slot, 4)
	if err != nil || n == 0 {
		return err
	}
	if depth >= maxSchemaDepth {
		return fmt.Errorf("%w: fields nest deeper than %d levels", errArrowSchema, maxSchemaDepth)
	}
	for i := range n {
		if *budget--; *budget < 0 {
			return fmt.Errorf("%w: more fields than it has room for", errArrowSchema)
		}
		field, err := fb.tableAt(start + 4*i)
		if err != nil {
			return err
		}
		if err := fb.checkKeyValues(field, fbFieldMetadata); err != nil {
			return err
		}
		if typ, _, err := field.uint8(fbFieldTypeType); err != nil {
			return err
		} else if typ == fbTypeUnion {
			union, ok, err := field.table(fbFieldType)
			if err != nil {
				return err
			}
			if ok {
				if _, _, err := union.vector(fbUnionTypeIDs, 4); err != nil {
					return err
				}
			}
		}
		if err := fb.checkFields(field, fbFieldChildren, depth+1, budget); err != nil {
			return err
		}
	}
	return nil
}

// checkKeyValues checks the vector of KeyValue tables in slot of t.
func (fb flatbuf) checkKeyValues(t fbTable, slot int) error {
	start, n, err := t.vector(slot, 4)
	if err != nil {
		return err
	}
	for i := range n {
		if _, err := fb.tableAt(start + 4*i); err != nil {
			return err
		}
	}
	return nil
}

// flatbuf is a flatbuffer read with every offset checked.
type flatbuf []byte

// fbTable is a table at pos whose vtable is at vt, vtLen bytes long.
type fbTable struct {
	fb             flatbuf
	pos, vt, vtLen int
}

func (fb flatbuf) u32(pos int) (uint32, error) {
	if pos < 0 || pos > len(fb)-4 {
		return 0, fmt.Errorf("%w: an offset outside its %d bytes", errArrowSchema, len(fb))
	}
	return binary.LittleEndian.Uint32(fb[pos:]), nil
}

func (fb flatbuf) root() (fbTable, error) { return fb.tableAt(0) }

// tableAt follows the offset stored at pos to a table.
func (fb flatbuf) tableAt(pos int) (fbTable, error) {
	off, err := fb.u32(pos)
	if err != nil {
		return fbTable{}, err
	}
	t := fbTable{fb: fb, pos: pos + int(off)}
	soff, err := fb.u32(t.pos)
	if err != nil {
		return fbTable{}, err
	}
	t.vt = t.pos - int(int32(soff))
	if t.vt < 0 || t.vt > len(fb)-4 {
		return fbTable{}, fmt.Errorf("%w: a table's vtable outside its %d bytes", errArrowSchema, len(fb))
	}
	t.vtLen = int(binary.LittleEndian.Uint16(fb[t.vt:]))
	if t.vtLen < 4 || t.vtLen > len(fb)-t.vt {
		return fbTable{}, fmt.Errorf("%w: a vtable of %d bytes", errArrowSchema, t.vtLen)
	}
	return t, nil
}

// slot is where field i of t lies, or 0 when it is absent. As in the
// flatbuffers runtime arrow-go reads with, a slot is there when it starts
// within the vtable's declared size, even if an odd size cuts it in half.
func (t fbTable) slot(i, size int) (int, error) {
	at := 4 + 2*i
	if at >= t.vtLen {
		return 0, nil
	}
	if t.vt+at+2 > len(t.fb) {
		return 0, fmt.Errorf("%w: a vtable slot outside its %d bytes", errArrowSchema, len(t.fb))
	}
	off := int(binary.LittleEndian.Uint16(t.fb[t.vt+at:]))
	if off == 0 {
		return 0, nil
	}
	if p := t.pos + off; p+size <= len(t.fb) {
		return p, nil
	}
	return 0, fmt.Errorf("%w: a field outside its %d bytes", errArrowSchema, len(t.fb))
}

func (t fbTable) uint8(i int) (uint8, bool, error) {
	p, err := t.slot(i, 1)
	if p == 0 || err != nil {
		return 0, false, err
	}
	return t.fb[p], true, nil
}

func (t fbTable) int64(i int) (int64, bool, error) {
	p, err := t.slot(i, 8)
	if p == 0 || err != nil {
		return 0, false, err
	}
	return int64(binary.LittleEndian.Uint64(t.fb[p:])), true, nil
}

func (t fbTable) table(i int) (fbTable, bool, error) {
	p, err := t.slot(i, 4)
	if p == 0 || err != nil {
		return fbTable{}, false, err
	}
	tt, err := t.fb.tableAt(p)
	return tt, err == nil, err
}

// vector returns where the elements of the vector in field i start and
// how many there are, checking that they fit.
func (t fbTable) vector(i, elemSize int) (start, n int, err error) {
	p, err := t.slot(i, 4)
	if p == 0 || err != nil {
		return 0, 0, err
	}
	off, _ := t.fb.u32(p)
	at := p + int(off)
	count, err := t.fb.u32(at)
	if err != nil {
		return 0, 0, err
	}
	start = at + 4
	if int64(count)*int64(elemSize) > int64(len(t.fb)-start) {
		return 0, 0, fmt.Errorf("%w: a vector of %d elements in %d bytes", errArrowSchema, count, len(t.fb)-start)
	}
	return start, int(count), nil
}
