package messages

// Task asks a worker to load source files into one part of their table's
// staging area: one file, or a batch of small files whose per-file costs
// (a queue message, a part, an fsync) would otherwise dwarf their data. The
// table's schema is not in the task: it is in the table record, read once
// per table by each worker, so tasks stay small whatever the width.
type Task struct {
	V int `json:"v"`
	// ID is the task's message ID on the queue: TaskID, plus a suffix when
	// the coordinator publishes a file's task again.
	ID     string     `json:"id"`
	LoadID string     `json:"load_id"`
	Table  string     `json:"table"`
	Files  []TaskFile `json:"files"`
	// Reissued is set on a task published again (lost by the queue, a
	// resumed load, records recreated): a part may already hold the
	// files' rows and can be adopted instead of loading them again.
	Reissued bool `json:"reissued,omitempty"`
	// Probe asks for the files' schemas only, recorded as a ProbeRecord:
	// a table's pre-flight spread over the workers.
	Probe bool `json:"probe,omitempty"`
}

// TaskFile is one file of a task.
type TaskFile struct {
	Source Source `json:"source"`
	// Range, when set, is the part of a big file this task loads.
	Range *Range `json:"range,omitempty"`
	// Revision is the file record's revision when the task was published,
	// so a first delivery can claim the file without reading it first.
	Revision uint64 `json:"revision,omitempty"`
	// From, when set, is the committed part (its path relative to the
	// table) that already holds this unchanged file's rows, among other
	// files': the worker copies them from there instead of fetching the
	// file, and loads it from the source only if the part cannot vouch
	// for them.
	From string `json:"from,omitempty"`
}
