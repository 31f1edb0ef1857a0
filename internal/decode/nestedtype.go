package decode

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// parseNestedType parses list<T>, struct<name: T, ...> and map<K, V>, in
// the form people write and in the form Arrow prints (list<item: T,
// nullable>, struct<a: T nullable>, map<K, V, items_nullable>). Elements,
// fields and map values are nullable unless marked "not null": a declared
// schema states types, and a null in data it did not expect should not
// fail a file. ok is false when s is not a nested type at all.
func parseNestedType(s string) (dt arrow.DataType, ok bool, err error) {
	dt, ok, err = nestedType(s)
	if err != nil {
		err = fmt.Errorf("parsing type %q: %w", s, err)
	}
	return dt, ok, err
}

func nestedType(s string) (dt arrow.DataType, ok bool, err error) {
	open := strings.IndexByte(s, '<')
	if open < 0 || !strings.HasSuffix(s, ">") {
		return nil, false, nil
	}
	kind, body := strings.ToLower(strings.TrimSpace(s[:open])), strings.TrimSpace(s[open+1:len(s)-1])
	parts, err := splitTopLevel(body)
	if err != nil {
		return nil, true, err
	}
	switch kind {
	case "list":
		elem := parts[0]
		arrowForm := false
		if name, t, found := strings.Cut(elem, ":"); found && !strings.ContainsAny(name, "<([") {
			elem, arrowForm = t, true // list<item: T[, nullable]>: nullable only if it says so
		}
		marked := len(parts) == 2 && strings.EqualFold(parts[1], "nullable")
		if marked {
			parts = parts[:1]
		}
		if len(parts) != 1 {
			return nil, true, errors.New("a list has one element type: list<int64>")
		}
		et, nullable, err := fieldType(elem)
		if err != nil {
			return nil, true, err
		}
		if arrowForm {
			nullable = marked
		}
		if !nullable {
			return arrow.ListOfNonNullable(et), true, nil
		}
		return arrow.ListOf(et), true, nil
	case "struct":
		fields := make([]arrow.Field, 0, len(parts))
		for _, p := range parts {
			name, t, found := strings.Cut(p, ":")
			if !found || strings.TrimSpace(name) == "" {
				return nil, true, fmt.Errorf("want struct<name: type, ...>, got field %q", p)
			}
			ft, nullable, err := fieldType(t)
			if err != nil {
				return nil, true, err
			}
			fields = append(fields, arrow.Field{Name: strings.TrimSpace(name), Type: ft, Nullable: nullable})
		}
		if len(fields) == 0 {
			return nil, true, errors.New("a struct needs at least one field")
		}
		return arrow.StructOf(fields...), true, nil
	case "map":
		if len(parts) == 3 && strings.EqualFold(parts[2], "items_nullable") { // Arrow's form
			parts = parts[:2]
		}
		if len(parts) != 2 {
			return nil, true, errors.New("want map<key type, value type>")
		}
		kt, err := ParseType(parts[0])
		if err != nil {
			return nil, true, err
		}
		vt, _, err := fieldType(parts[1])
		if err != nil {
			return nil, true, err
		}
		return arrow.MapOf(kt, vt), true, nil
	}
	return nil, false, nil
}

// fieldType parses a type with an optional "nullable" or "not null" after
// it.
func fieldType(s string) (arrow.DataType, bool, error) {
	s = strings.TrimSpace(s)
	nullable := true
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, " not null"):
		s, nullable = strings.TrimSpace(s[:len(s)-len(" not null")]), false
	case strings.HasSuffix(lower, " nullable"):
		s = strings.TrimSpace(s[:len(s)-len(" nullable")])
	}
	dt, err := ParseType(s)
	return dt, nullable, err
}

// splitTopLevel splits s at the commas outside any brackets.
func splitTopLevel(s string) ([]string, error) {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '(', '[':
			depth++
		case '>', ')', ']':
			if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced %q", s[i])
			}
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced brackets")
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(parts) > 0 {
		parts = append(parts, last)
	}
	if len(parts) == 0 {
		return nil, errors.New("no type between the brackets")
	}
	return parts, nil
}
