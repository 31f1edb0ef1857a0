package lakecheck

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// metadataJSON is the part of a table's metadata.json the checker reads.
type metadataJSON struct {
	FormatVersion     int            `json:"format-version"`
	Location          string         `json:"location"`
	CurrentSnapshotID *int64         `json:"current-snapshot-id"`
	CurrentSchemaID   int            `json:"current-schema-id"`
	Schemas           []schemaJSON   `json:"schemas"`
	Schema            *schemaJSON    `json:"schema"` // format v1 only
	Snapshots         []snapshotJSON `json:"snapshots"`
}

type schemaJSON struct {
	SchemaID int         `json:"schema-id"`
	Fields   []fieldJSON `json:"fields"`
}

type fieldJSON struct {
	ID       int             `json:"id"`
	Name     string          `json:"name"`
	Required bool            `json:"required"`
	Type     json.RawMessage `json:"type"`
}

// nestedTypeJSON is a struct, list or map type; primitives are plain strings.
type nestedTypeJSON struct {
	Type            string          `json:"type"`
	Fields          []fieldJSON     `json:"fields"`
	ElementID       int             `json:"element-id"`
	Element         json.RawMessage `json:"element"`
	ElementRequired bool            `json:"element-required"`
	KeyID           int             `json:"key-id"`
	Key             json.RawMessage `json:"key"`
	ValueID         int             `json:"value-id"`
	Value           json.RawMessage `json:"value"`
	ValueRequired   bool            `json:"value-required"`
}

type snapshotJSON struct {
	SnapshotID       int64             `json:"snapshot-id"`
	ParentSnapshotID *int64            `json:"parent-snapshot-id"`
	SequenceNumber   int64             `json:"sequence-number"`
	TimestampMs      int64             `json:"timestamp-ms"`
	ManifestList     string            `json:"manifest-list"`
	Manifests        []string          `json:"manifests"` // format v1 only
	Summary          map[string]string `json:"summary"`
	SchemaID         *int              `json:"schema-id"`
}

// Snapshot is one snapshot listed in the table metadata.
type Snapshot struct {
	ID int64
	// ParentID is 0 for the first snapshot.
	ParentID       int64
	SequenceNumber int64
	Timestamp      time.Time
	Operation      string
	Summary        map[string]string
	ManifestList   string
}

// Field is a field of an Iceberg schema. Lists have one child named
// "element", maps two named "key" and "value".
type Field struct {
	ID       int
	Name     string
	Type     string // a primitive such as "long" or "decimal(10,2)", or "struct", "list", "map"
	Required bool
	Fields   []Field
}

// loadMetadata reads the metadata.json at location or, given a table
// location, the current one named by metadata/version-hint.text, as Hadoop
// tables do. It returns the metadata file's location too.
func loadMetadata(ctx context.Context, open Opener, location string) (string, *metadataJSON, error) {
	if strings.HasSuffix(location, ".metadata.json") {
		md, err := readMetadata(ctx, open, location)
		return location, md, err
	}
	dir := strings.TrimSuffix(location, "/") + "/metadata/"
	hint, err := open(ctx, dir+"version-hint.text")
	if err != nil {
		return "", nil, fmt.Errorf("reading version hint of %s: %w", location, err)
	}
	version, err := strconv.Atoi(strings.TrimSpace(string(hint)))
	if err != nil {
		return "", nil, fmt.Errorf("parsing version hint of %s: %w: %w", location, ErrInvalidMetadata, err)
	}
	plain := fmt.Sprintf("%sv%d.metadata.json", dir, version)
	md, err := readMetadata(ctx, open, plain)
	if !errors.Is(err, fs.ErrNotExist) {
		return plain, md, err
	}
	// Writers that compress metadata name it vN.gz.metadata.json.
	gz := fmt.Sprintf("%sv%d.gz.metadata.json", dir, version)
	if md, gzErr := readMetadata(ctx, open, gz); gzErr == nil {
		return gz, md, nil
	}
	return "", nil, err
}

// readMetadata reads and parses a metadata.json, gzipped or not.
func readMetadata(ctx context.Context, open Opener, location string) (*metadataJSON, error) {
	b, err := open(ctx, location)
	if err != nil {
		return nil, fmt.Errorf("reading metadata %s: %w", location, err)
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("decompressing metadata %s: %w", location, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("decompressing metadata %s: %w", location, err)
		}
	}
	var md metadataJSON
	if err := json.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("parsing metadata %s: %w: %w", location, ErrInvalidMetadata, err)
	}
	if md.FormatVersion < 1 || md.FormatVersion > 3 {
		return nil, fmt.Errorf("metadata %s: %w: format-version %d", location, ErrInvalidMetadata, md.FormatVersion)
	}
	return &md, nil
}

// currentSchema returns the fields of the table's current schema.
func (md *metadataJSON) currentSchema() ([]Field, error) {
	for _, s := range md.Schemas {
		if s.SchemaID == md.CurrentSchemaID {
			return convertFields(s.Fields)
		}
	}
	if md.Schema != nil && len(md.Schemas) == 0 {
		return convertFields(md.Schema.Fields)
	}
	return nil, fmt.Errorf("%w: current schema %d not listed", ErrInvalidMetadata, md.CurrentSchemaID)
}

func (md *metadataJSON) snapshots() []Snapshot {
	out := make([]Snapshot, 0, len(md.Snapshots))
	for _, s := range md.Snapshots {
		var parent int64
		if s.ParentSnapshotID != nil {
			parent = *s.ParentSnapshotID
		}
		out = append(out, Snapshot{
			ID:             s.SnapshotID,
			ParentID:       parent,
			SequenceNumber: s.SequenceNumber,
			Timestamp:      time.UnixMilli(s.TimestampMs).UTC(),
			Operation:      s.Summary["operation"],
			Summary:        s.Summary,
			ManifestList:   s.ManifestList,
		})
	}
	return out
}

func convertFields(in []fieldJSON) ([]Field, error) {
	out := make([]Field, 0, len(in))
	for _, f := range in {
		field, err := convertType(f.ID, f.Name, f.Required, f.Type)
		if err != nil {
			return nil, err
		}
		out = append(out, field)
	}
	return out, nil
}

func convertType(id int, name string, required bool, raw json.RawMessage) (Field, error) {
	field := Field{ID: id, Name: name, Required: required}
	if err := json.Unmarshal(raw, &field.Type); err == nil {
		return field, nil
	}
	var nt nestedTypeJSON
	if err := json.Unmarshal(raw, &nt); err != nil {
		return Field{}, fmt.Errorf("parsing type of field %q: %w: %w", name, ErrInvalidMetadata, err)
	}
	field.Type = nt.Type
	var err error
	switch nt.Type {
	case "struct":
		field.Fields, err = convertFields(nt.Fields)
	case "list":
		var elem Field
		elem, err = convertType(nt.ElementID, "element", nt.ElementRequired, nt.Element)
		field.Fields = []Field{elem}
	case "map":
		var key, value Field
		if key, err = convertType(nt.KeyID, "key", true, nt.Key); err == nil {
			value, err = convertType(nt.ValueID, "value", nt.ValueRequired, nt.Value)
		}
		field.Fields = []Field{key, value}
	default:
		err = fmt.Errorf("%w: field %q has unknown type %q", ErrInvalidMetadata, name, nt.Type)
	}
	return field, err
}
