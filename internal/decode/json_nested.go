package decode

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Struct and list columns are filled by walking each value's JSON, which
// the parser has already checked, into the column's builders. Flat columns
// never come here, so their fast path is unchanged.

var errDuplicateKey = errors.New("key appears twice in one object")

// newJSONNestedAppender returns how objects go into a struct column and
// arrays into a list column, or nil for other types.
func newJSONNestedAppender(bld array.Builder, dt arrow.DataType, text, compact *[]byte) jsonAppender {
	switch dt.ID() {
	case arrow.STRUCT:
		return newJSONStructAppender(bld.(*array.StructBuilder), dt.(*arrow.StructType), text, compact)
	case arrow.LIST, arrow.LARGE_LIST:
		return newJSONListAppender(bld.(array.ListLikeBuilder), dt.(arrow.ListLikeType), text, compact)
	}
	return nil
}

// newJSONFieldAppender is newJSONAppender for a struct field or list
// element: it also takes nulls.
func newJSONFieldAppender(bld array.Builder, f arrow.Field, text, compact *[]byte) jsonAppender {
	app := newJSONAppender(bld, f.Type, text, compact)
	if app == nil {
		return nil
	}
	return func(kind jsonKind, raw []byte) error {
		if kind != jsonNull {
			return app(kind, raw)
		}
		if !f.Nullable {
			return errNonNullable
		}
		bld.AppendNull()
		return nil
	}
}

func newJSONStructAppender(sb *array.StructBuilder, st *arrow.StructType, text, compact *[]byte) jsonAppender {
	nf := st.NumFields()
	apps := make([]jsonAppender, nf)
	index := make(map[string]int, nf)
	for i, f := range st.Fields() {
		if apps[i] = newJSONFieldAppender(sb.FieldBuilder(i), f, text, compact); apps[i] == nil {
			return nil
		}
		index[f.Name] = i
	}
	// Calls never overlap: a nested struct has its own appender.
	seen := make([]bool, nf)
	var key []byte
	return func(kind jsonKind, raw []byte) error {
		if kind != jsonObject {
			return fmt.Errorf("expected %s, found %s %s", st, kind, clip(raw))
		}
		clear(seen)
		sb.Append(true)
		var err error
		walkObject(raw, func(k []byte, vk jsonKind, v []byte) bool {
			k = unquoteKey(k, &key)
			i, ok := index[string(k)]
			switch {
			case !ok:
				err = fmt.Errorf("key %q is not a field of %s (it first appears after the sampled rows; declare the schema to load it)", clip(k), st)
			case seen[i]:
				err = fmt.Errorf("field %s: %w", st.Field(i).Name, errDuplicateKey)
			default:
				seen[i] = true
				if e := apps[i](vk, v); e != nil {
					err = fmt.Errorf("field %s: %w", st.Field(i).Name, e)
				}
			}
			return err == nil
		})
		if err != nil {
			return err
		}
		for i, ok := range seen {
			if ok {
				continue
			}
			f := st.Field(i)
			if !f.Nullable {
				return fmt.Errorf("field %s: missing value for a non-nullable field", f.Name)
			}
			sb.FieldBuilder(i).AppendNull()
		}
		return nil
	}
}

func newJSONListAppender(lb array.ListLikeBuilder, lt arrow.ListLikeType, text, compact *[]byte) jsonAppender {
	elem := newJSONFieldAppender(lb.ValueBuilder(), lt.ElemField(), text, compact)
	if elem == nil {
		return nil
	}
	return func(kind jsonKind, raw []byte) error {
		if kind != jsonArray {
			return fmt.Errorf("expected %s, found %s %s", lt, kind, clip(raw))
		}
		lb.Append(true)
		var err error
		i := 0
		walkArray(raw, func(vk jsonKind, v []byte) {
			if err == nil {
				if e := elem(vk, v); e != nil {
					err = fmt.Errorf("element %d: %w", i, e)
				}
			}
			i++
		})
		return err
	}
}
