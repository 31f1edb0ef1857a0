package coordinator_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/messages"
)

// pagedLister serves n synthetic keys in pages of 1000, as ListObjectsV2 would.
type pagedLister struct{ n int }

func (l pagedLister) List(ctx context.Context, bucket, prefix, _ string, fn func([]messages.Source) error) error {
	for first := 0; first < l.n; first += 1000 {
		page := make([]messages.Source, 0, 1000)
		for i := first; i < min(first+1000, l.n); i++ {
			page = append(page, messages.Source{Bucket: bucket, Key: fmt.Sprintf("%s%08d.csv", prefix, i), ETag: strconv.Itoa(i), Size: 10_000})
		}
		if err := fn(page); err != nil {
			return err
		}
	}
	return nil
}

func (pagedLister) IsPermanent(error) bool { return false }

type noCommit struct{}

func (noCommit) IsPermanent(error) bool { return false }

func (noCommit) Prepare(context.Context, coordinator.PrepareRequest) (coordinator.Prepared, error) {
	return coordinator.Prepared{}, nil
}

func (noCommit) Commit(context.Context, coordinator.CommitRequest) (coordinator.CommitResult, error) {
	return coordinator.CommitResult{}, nil
}

type firstSchema struct{}

func (firstSchema) MergeSchemas(_ context.Context, _ string, _ []byte, groups []coordinator.SchemaGroup) (coordinator.MergedSchema, error) {
	return coordinator.MergedSchema{Schema: groups[0].Schema, Misfits: make([]string, len(groups))}, nil
}

type noProbe struct{}

func (noProbe) ProbeSchema(context.Context, string, messages.Source) ([]byte, error) {
	return []byte{1}, nil
}

// BenchmarkListAndPublish: keys listed, recorded and published per second,
// against a real embedded JetStream on file storage. The object store is
// synthetic (S3LOAD_BENCH_KEYS keys, default 100000): this measures the
// coordinator and NATS, not S3.
func BenchmarkListAndPublish(b *testing.B) {
	keys := 100_000
	if v, err := strconv.Atoi(os.Getenv("S3LOAD_BENCH_KEYS")); err == nil && v > 0 {
		keys = v
	}
	for b.Loop() {
		b.StopTimer()
		srv, err := natsq.StartEmbedded(b.TempDir(), "127.0.0.1", 0)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		nc, js, err := natsq.Connect(ctx, natsq.ConnectOptions{URL: srv.URL(), Name: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		q, err := natsq.OpenQueue(ctx, js, "bench", natsq.Options{})
		if err != nil {
			b.Fatal(err)
		}
		st, err := natsq.OpenState(ctx, js, natsq.Options{})
		if err != nil {
			b.Fatal(err)
		}
		// The pre-flight runs here, with a prober that answers at once: no
		// workers run to take probe tasks.
		co, err := coordinator.New(coordinator.Config{Job: "bench", Bucket: "b", Tables: []coordinator.Table{{Name: "t", Prefix: "t/"}}, ProbeLocalMax: 1 << 30},
			coordinator.Ports{Lister: pagedLister{keys}, Prober: noProbe{}, Merger: firstSchema{}, Queue: q, State: st, Leases: st, Committer: noCommit{}})
		if err != nil {
			b.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() {
			defer close(done)
			_, _ = co.Run(runCtx)
		}()
		for {
			rec, _, err := st.Load(ctx, "bench")
			if err == nil {
				if tr, _, err := st.Table(ctx, rec.LoadID, "t"); err == nil && tr.Listed {
					break
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		cancel()
		<-done
		nc.Close()
		srv.Shutdown()
		b.ReportMetric(float64(keys)/elapsed.Seconds(), "keys/s")
		b.StartTimer()
	}
}
