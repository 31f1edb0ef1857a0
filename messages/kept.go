package messages

import (
	"strings"
	"time"
)

// KeptRecord stands for the file records of one committed part that a load
// keeps as it is (a part reused whole, or with rows masked): every file it
// lists is loaded, into Part. One record instead of one per file spares a
// repeated load of many small files nearly all of its writes and reads of
// the state store. It is written once and never changed: to act on one of
// its files alone (reset, remove), the store first turns it into file
// records of their own (see Records).
//
// It lives among the table's file records under KeptToken(Part), so a
// watch or a purge of a table's files covers it; a load begun by a version
// that writes kept records must not be resumed by one that does not.
type KeptRecord struct {
	V      int    `json:"v"`
	LoadID string `json:"load_id"`
	Table  string `json:"table"`
	// Part is the part's path relative to the table, as the load names it;
	// PartFiles how many of its files the load keeps (len(Files)), and
	// Bytes its size.
	Part      string     `json:"part"`
	PartFiles int        `json:"part_files"`
	Bytes     int64      `json:"bytes,omitempty"`
	Files     []KeptFile `json:"files"`
	Updated   time.Time  `json:"updated"`
}

// KeptFile is one file of a kept part and its rows.
type KeptFile struct {
	Source Source `json:"source"`
	Rows   int64  `json:"rows,omitempty"`
}

// keptPrefix starts every kept record's token; a file record's token is
// hex, so the two never meet.
const keptPrefix = "kept-"

// KeptToken is the key token of the kept record of part.
func KeptToken(part string) string { return keptPrefix + hashHex(32, part) }

// IsKeptToken reports whether a key token among a table's file records is a
// kept record's.
func IsKeptToken(token string) bool { return strings.HasPrefix(token, keptPrefix) }

// Token is the record's key token.
func (k KeptRecord) Token() string { return KeptToken(k.Part) }

// Records are the file records k stands for: loaded into k's part, each
// naming k in Kept.
func (k KeptRecord) Records() []FileRecord {
	token := k.Token()
	out := make([]FileRecord, len(k.Files))
	for i, f := range k.Files {
		out[i] = FileRecord{V: k.V, LoadID: k.LoadID, Table: k.Table, Source: f.Source, State: StateLoaded,
			Part: k.Part, PartFiles: k.PartFiles, Rows: f.Rows, Bytes: k.Bytes, Kept: token, Updated: k.Updated}
	}
	return out
}

// KeepRecords groups the loaded records of files a load keeps in
// committed parts into one kept record per part. Every record must name
// its part, and a part's records must count its files (PartFiles).
func KeepRecords(recs []FileRecord) []KeptRecord {
	var out []KeptRecord
	at := map[string]int{}
	for _, r := range recs {
		i, ok := at[r.Part]
		if !ok {
			i = len(out)
			at[r.Part] = i
			out = append(out, KeptRecord{LoadID: r.LoadID, Table: r.Table, Part: r.Part, PartFiles: r.PartFiles, Bytes: r.Bytes, Updated: r.Updated,
				Files: make([]KeptFile, 0, r.PartFiles)})
		}
		out[i].Files = append(out[i].Files, KeptFile{Source: r.Source, Rows: r.Rows})
	}
	return out
}
