package target

import (
	"fmt"
	"sort"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/messages"
)

func buildManifest(req coordinator.CommitRequest, partPath func(load string, src messages.Source) string) (messages.Manifest, error) {
	m := messages.Manifest{
		Table:       req.Table,
		LoadID:      req.LoadID,
		CommittedAt: time.Now().UTC(),
		Schema:      []messages.Field{},
		Files:       []messages.ManifestFile{},
		Failed:      []messages.ManifestFailure{},
	}
	if len(req.Schema) > 0 {
		schema, err := decode.DecodeSchema(req.Schema)
		if err != nil {
			return m, fmt.Errorf("decoding the schema of %s: %w", req.Table, err)
		}
		m.Schema = decode.Fields(schema)
	}
	for _, f := range req.Loaded {
		want := partPath(req.LoadID, f.Source)
		if f.Part != want {
			return m, fmt.Errorf("%s: recorded part %q, expected %q", f.Source, f.Part, want)
		}
		m.Files = append(m.Files, messages.ManifestFile{Path: f.Part, Rows: f.Rows, Bytes: f.Bytes, Source: f.Source})
		m.Rows += f.Rows
	}
	for _, f := range req.Failed {
		m.Failed = append(m.Failed, messages.ManifestFailure{Source: f.Source, State: f.State, Error: f.Error, Attempts: f.Attempts})
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Source.Key < m.Files[j].Source.Key })
	sort.Slice(m.Failed, func(i, j int) bool { return m.Failed[i].Source.Key < m.Failed[j].Source.Key })
	return m, nil
}
