package coordinator

import (
	"bytes"
	"strings"
	"testing"

	"github.com/s3load/s3load/messages"
)

// TestReportCountsEmptyFiles: a file loaded with no row counts as loaded,
// and the report says how many of those were empty.
func TestReportCountsEmptyFiles(t *testing.T) {
	src := func(k string) messages.Source { return messages.Source{Bucket: "b", Key: k, ETag: "e", Size: 2} }
	files := []messages.FileRecord{
		{Source: src("t/a.json"), State: messages.StateLoaded, Rows: 0},
		{Source: src("t/b.json"), State: messages.StateLoaded, Rows: 5},
		{Source: src("t/c.json"), State: messages.StateFailed, Error: "bad"},
	}
	r := summarize("t", messages.TableRecord{Files: 3}, files)
	if r.Files != 3 || r.Loaded != 2 || r.Empty != 1 || r.Failed != 1 || r.Rows != 5 {
		t.Fatalf("summary %+v, want 3 files, 2 loaded (1 empty), 1 failed, 5 rows", r)
	}
	var b bytes.Buffer
	if err := (Report{LoadID: "l", Tables: []TableReport{r}}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "t: 1 of the loaded files held no row (empty)") {
		t.Errorf("report does not say a file was empty:\n%s", b.String())
	}
}
