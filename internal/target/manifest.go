package target

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/messages"
)

// buildManifest lists the parts of the loaded files. A part shared by a
// batch of files is listed once; it must hold exactly the files recorded in
// it (the coordinator reloads the files of a part that does not before it
// commits), and each file's record must name a part of this load.
func buildManifest(req coordinator.CommitRequest, partPath func(load, name string) string) (messages.Manifest, error) {
	m := messages.Manifest{
		Table:       req.Table,
		LoadID:      req.LoadID,
		CommittedAt: time.Now().UTC(),
		Schema:      []messages.Field{},
		Parts:       []messages.ManifestPart{},
		Files:       []messages.ManifestFile{},
		Failed:      []messages.ManifestFailure{},
		Fingerprint: req.Fingerprint,
		TableSchema: req.Schema,
	}
	if len(req.Schema) > 0 {
		schema, err := decode.DecodeSchema(req.Schema)
		if err != nil {
			return m, fmt.Errorf("decoding the schema of %s: %w", req.Table, err)
		}
		m.Schema = decode.Fields(schema)
	}
	parts := map[string]int{} // path -> index in m.Parts
	members := map[string]int{}
	for _, f := range req.Loaded {
		name := path.Base(f.Part)
		if f.Part != partPath(req.LoadID, name) || !strings.HasSuffix(name, ".parquet") {
			return m, fmt.Errorf("%s: recorded part %q is not a part of load %s", f.Source, f.Part, req.LoadID)
		}
		i, ok := parts[f.Part]
		if !ok {
			i = len(m.Parts)
			parts[f.Part] = i
			m.Parts = append(m.Parts, messages.ManifestPart{Path: f.Part, Bytes: f.Bytes})
		}
		if m.Parts[i].Bytes != f.Bytes {
			return m, fmt.Errorf("%s: part %s recorded as %d bytes, and as %d by another of its files", f.Source, f.Part, f.Bytes, m.Parts[i].Bytes)
		}
		m.Parts[i].Rows += f.Rows
		members[f.Part]++
		m.Files = append(m.Files, messages.ManifestFile{Source: f.Source, Range: f.Range, Path: f.Part, Rows: f.Rows, Rejected: f.Rejected})
		m.Rows += f.Rows
	}
	for _, f := range req.Loaded {
		if want := max(f.PartFiles, 1); members[f.Part] != want {
			return m, fmt.Errorf("%s: part %s holds %d files, %d are recorded in it", f.Source, f.Part, want, members[f.Part])
		}
	}
	for _, f := range req.Failed {
		m.Failed = append(m.Failed, messages.ManifestFailure{Source: f.Source, State: f.State, Error: f.Error, Attempts: f.Attempts})
	}
	sort.Slice(m.Parts, func(i, j int) bool { return m.Parts[i].Path < m.Parts[j].Path })
	sort.Slice(m.Files, func(i, j int) bool {
		a, b := m.Files[i], m.Files[j]
		if a.Source.Key != b.Source.Key || a.Range == nil || b.Range == nil {
			return a.Source.Key < b.Source.Key
		}
		return a.Range.Index < b.Range.Index
	})
	sort.Slice(m.Failed, func(i, j int) bool { return m.Failed[i].Source.Key < m.Failed[j].Source.Key })
	return m, nil
}
