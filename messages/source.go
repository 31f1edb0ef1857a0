package messages

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Source identifies one object of the source bucket as it was listed.
type Source struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
}

// Token is a short, subject- and key-safe name for the object's key: object
// keys may hold dots, spaces, '*' or '>' and must never become NATS tokens raw.
func (s Source) Token() string { return hashHex(32, s.Bucket, s.Key) }

// Identity names this version of the object: the same key with a new ETag is
// a different identity, so its output part gets a different name.
func (s Source) Identity() string { return hashHex(32, s.Bucket, s.Key, s.ETag) }

// String names the object for people: s3://bucket/key.
func (s Source) String() string { return "s3://" + s.Bucket + "/" + s.Key }

// DedupID is the JetStream message ID of the task that loads src into table
// in load: publishing the same file twice within the stream's duplicate
// window is a no-op. The table is part of it: one object under two tables'
// prefixes is two tasks.
func DedupID(loadID, table string, src Source) string {
	return hashHex(40, loadID, table, src.Bucket, src.Key, src.ETag)
}

// TaskID is the message ID of a task loading files into table in load:
// DedupID for one file, and for a batch a hash of every file's identity, so
// the same batch published twice is one task.
func TaskID(loadID, table string, files []TaskFile) string {
	if len(files) == 1 && files[0].Range == nil {
		return DedupID(loadID, table, files[0].Source)
	}
	parts := make([]string, 0, len(files)+2)
	parts = append(parts, loadID, table)
	for _, f := range files {
		parts = append(parts, f.Source.Identity())
		if f.Range != nil {
			parts = append(parts, fmt.Sprintf("range %d of %d", f.Range.Index, f.Range.Count))
		}
	}
	return hashHex(40, parts...)
}

// BatchPartName names the part holding the rows of several files: a hash of
// their identities, so loading the same set again rewrites the same part
// rather than adding a second copy of their rows.
func BatchPartName(srcs []Source) string {
	ids := make([]string, len(srcs))
	for i, s := range srcs {
		ids[i] = s.Identity()
	}
	return "batch-" + hashHex(32, ids...) + ".parquet"
}

// PartName names the part holding one file's rows (or one range of them);
// a redelivered task writes the same name, so it replaces its part instead
// of adding one.
func PartName(src Source, r *Range) string {
	if r != nil {
		return fmt.Sprintf("part-%s-%dof%d.parquet", src.Identity(), r.Index+1, r.Count)
	}
	return "part-" + src.Identity() + ".parquet"
}

// Range is one of Count byte ranges a big file is split into, loaded by its
// own task into its own part. A text range owns the lines that start in
// [Start, End); a Parquet range owns the row groups whose middle byte is in
// it. Either way the ranges of a file cover each row exactly once.
type Range struct {
	Index int   `json:"index"`
	Count int   `json:"count"`
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// RecordToken is the key token of the record of src, or of one range of it.
func RecordToken(src Source, r *Range) string {
	if r != nil {
		return src.Token() + "-" + strconv.Itoa(r.Index)
	}
	return src.Token()
}

func hashHex(n int, parts ...string) string {
	// Built in one buffer and hashed at once: a million keys are hashed
	// while listing, and fmt per part was a third of the cost.
	var stack [256]byte
	buf := stack[:0]
	for _, p := range parts {
		// Length-prefix each part so ("ab","c") and ("a","bc") differ.
		buf = strconv.AppendInt(buf, int64(len(p)), 10)
		buf = append(buf, ':')
		buf = append(buf, p...)
		buf = append(buf, ';')
	}
	sum := sha256.Sum256(buf)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:n])
}
