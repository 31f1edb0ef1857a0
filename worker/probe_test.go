package worker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/s3load/s3load/messages"
)

// proberFunc probes with a function.
type proberFunc func(src messages.Source) ([]byte, messages.ProbeKind, error)

func (f proberFunc) Probe(_ context.Context, _ string, src messages.Source) ([]byte, messages.ProbeKind, error) {
	return f(src)
}

func TestHandleProbeRecordsEveryFileAndEachSchemaOnce(t *testing.T) {
	files := newMemFiles()
	prober := proberFunc(func(src messages.Source) ([]byte, messages.ProbeKind, error) {
		switch {
		case strings.HasPrefix(src.Key, "t/bad"):
			return nil, messages.ProbeBad, errors.New("not CSV")
		case strings.HasPrefix(src.Key, "t/empty"):
			return nil, messages.ProbeEmpty, errors.New("no rows")
		case strings.HasPrefix(src.Key, "t/wide"):
			return []byte("schema-b"), messages.ProbeOK, nil
		}
		return []byte("schema-a"), messages.ProbeOK, nil
	})
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
		t.Error("a probe task must not load")
		return Outcome{}
	}), func(c *Config) { c.Prober = prober })
	keys := []string{"t/a1", "t/a2", "t/wide", "t/bad", "t/empty", "t/a3"}
	task := messages.Task{ID: "p1", LoadID: "l", Table: "t", Probe: true}
	for _, k := range keys {
		task.Files = append(task.Files, messages.TaskFile{Source: messages.Source{Bucket: "b", Key: k, ETag: "e"}})
	}
	d := &fakeDelivery{task: task, delivered: 1}
	w.Handle(context.Background(), d)
	if d.last() != "ack" {
		t.Fatalf("probe task settled with %q, want ack", d.last())
	}
	if len(files.probes) != 1 {
		t.Fatalf("%d probe records, want 1", len(files.probes))
	}
	rec := files.probes[0]
	if rec.Task != "p1" || rec.LoadID != "l" || rec.Table != "t" || len(rec.Results) != len(keys) {
		t.Fatalf("probe record %+v", rec)
	}
	if len(rec.Schemas) != 2 {
		t.Errorf("%d distinct schemas stored, want 2", len(rec.Schemas))
	}
	want := []messages.ProbeKind{messages.ProbeOK, messages.ProbeOK, messages.ProbeOK, messages.ProbeBad, messages.ProbeEmpty, messages.ProbeOK}
	for i, r := range rec.Results {
		if r.Source.Key != keys[i] || r.Kind != want[i] {
			t.Errorf("result %d: %s %s, want %s %s", i, r.Source.Key, r.Kind, keys[i], want[i])
		}
		if r.Kind == messages.ProbeOK && string(rec.Schemas[r.Schema]) == "" {
			t.Errorf("result %d names schema %q, which the record lacks", i, r.Schema)
		}
		if r.Kind == messages.ProbeBad && r.Error != "not CSV" {
			t.Errorf("bad file's error %q", r.Error)
		}
	}
	if rec.Results[0].Schema != rec.Results[1].Schema || rec.Results[0].Schema == rec.Results[2].Schema {
		t.Error("equal schemas must share a name, different ones must not")
	}
}

func TestHandleProbeWithoutProberLeavesFilesToTheCoordinator(t *testing.T) {
	files := newMemFiles()
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome { return Outcome{} }))
	d := &fakeDelivery{task: messages.Task{ID: "p", LoadID: "l", Table: "t", Probe: true,
		Files: []messages.TaskFile{{Source: messages.Source{Bucket: "b", Key: "t/a", ETag: "e"}}}}, delivered: 1}
	w.Handle(context.Background(), d)
	if len(files.probes) != 1 || files.probes[0].Results[0].Kind != messages.ProbeTransient {
		t.Fatalf("probes %+v, want one transient result", files.probes)
	}
}
