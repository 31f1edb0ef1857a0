// Package messages owns the wire types that the coordinator, the workers and
// the load's durable state share: tasks on the work queue, the records of
// loads, tables, files, workers and the coordinator's lease in the key-value
// store, and the table manifest. It imports only the standard library so
// that any process, or another language, can speak it.
//
// Every top-level type carries a version field V. Decoders reject versions
// they do not know rather than guess at fields.
package messages

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the wire version this package writes and the only one it reads.
// Version 2: tasks no longer carry the table's schema (workers read it from
// the table record), and task IDs include the table.
const Version = 2

// ErrVersion reports a message written by an incompatible version.
var ErrVersion = errors.New("unsupported message version")

// Errors of the load's state store, shared by every implementation so the
// coordinator and workers can branch on them.
var (
	// ErrNotFound: no record under that key.
	ErrNotFound = errors.New("record not found")
	// ErrConflict: the record changed since it was read (or already exists,
	// for a create). The writer lost a race and must re-read.
	ErrConflict = errors.New("record changed concurrently")
	// ErrTooLarge: the record (or task) is larger than the store accepts;
	// writing it again cannot help.
	ErrTooLarge = errors.New("too large for the state store")
)

// message is every top-level type of this package.
type message interface {
	Task | FileRecord | KeptRecord | LoadRecord | TableRecord | WorkerRecord | LeaseRecord | Manifest | ProbeRecord | ProgressRecord
}

// versioned is implemented by pointers to every message type.
type versioned interface{ version() *int }

func (m *Task) version() *int           { return &m.V }
func (m *FileRecord) version() *int     { return &m.V }
func (m *KeptRecord) version() *int     { return &m.V }
func (m *LoadRecord) version() *int     { return &m.V }
func (m *TableRecord) version() *int    { return &m.V }
func (m *WorkerRecord) version() *int   { return &m.V }
func (m *LeaseRecord) version() *int    { return &m.V }
func (m *Manifest) version() *int       { return &m.V }
func (m *ProbeRecord) version() *int    { return &m.V }
func (m *ProgressRecord) version() *int { return &m.V }

// Marshal encodes any message of this package, stamping the current version.
func Marshal[T message](m T) ([]byte, error) {
	*any(&m).(versioned).version() = Version
	return json.Marshal(m)
}

// Unmarshal decodes a message of this package and rejects unknown versions.
func Unmarshal[T message](data []byte) (T, error) {
	var m T
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decoding %T: %w", m, err)
	}
	if v := *any(&m).(versioned).version(); v != Version {
		return m, fmt.Errorf("decoding %T: version %d: %w", m, v, ErrVersion)
	}
	return m, nil
}
