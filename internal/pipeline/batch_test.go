package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// A batch whose work is stopped (the worker drains, or its work context
// ends) returns with every file's outcome instead of waiting forever: its
// decoders see the end and say so, file by file.
func TestBatchStoppedReturns(t *testing.T) {
	tgt, err := target.Open("file://"+t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	encoded, err := decode.EncodeSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	// The files' bytes are kept as a pre-flight keeps them: the store is
	// never asked.
	store, err := s3store.New(context.Background(), s3store.Config{Endpoint: "http://127.0.0.1:9", AccessKeyID: "k", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	p := New(store, tgt, map[string]decode.Options{"t": {Format: decode.FormatCSV, CSV: decode.CSVOptions{Delimiter: ',', Quote: '"', Header: true}}}, nil)
	defer p.KeepProbedFiles(tempspace.New(t.TempDir(), 0))()
	task := messages.Task{LoadID: "l", Table: "t"}
	for i := range 5 * batchPrefetch {
		src := messages.Source{Bucket: "b", Key: fmt.Sprintf("f%02d.csv", i), ETag: "e", Size: 8}
		p.probed.put(src, []byte("id\n1\n2\n"))
		task.Files = append(task.Files, messages.TaskFile{Source: src})
	}
	for _, when := range []string{"before", "during"} {
		t.Run(when, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if when == "before" {
				cancel()
			} else {
				time.AfterFunc(time.Millisecond, cancel)
			}
			defer cancel()
			done := make(chan []worker.Outcome, 1)
			go func() { done <- p.Load(ctx, task, worker.Schemas{Decode: encoded}, nil) }()
			select {
			case outs := <-done:
				if len(outs) != len(task.Files) {
					t.Fatalf("%d outcomes for %d files", len(outs), len(task.Files))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the stopped batch did not return within 10 s")
			}
		})
	}
}
