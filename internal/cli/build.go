package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/internal/pipeline"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// jobID names what a config loads: the same source, tables and target give
// the same job, so a restarted coordinator finds its open load.
func jobID(c config.Config) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q\n", c.Source.Endpoint, c.Source.Bucket, c.Target)
	for _, t := range c.Tables {
		fmt.Fprintf(h, "%q %q %q %q\n", t.Name, t.Prefix, t.Glob, t.Format)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func storeConfig(s config.S3) s3store.Config {
	return s3store.Config{
		Region:          s.Region,
		Endpoint:        s.Endpoint,
		PathStyle:       s.PathStyle,
		AccessKeyID:     s.AccessKeyID,
		SecretAccessKey: s.SecretAccessKey.Reveal(),
	}
}

// adapters are the pieces both the coordinator and workers are built from.
type adapters struct {
	source   *s3store.Store
	target   *target.Target
	pipeline *pipeline.Pipeline
}

func buildAdapters(ctx context.Context, c config.Config) (*adapters, error) {
	source, err := s3store.New(ctx, storeConfig(c.Source))
	if err != nil {
		return nil, fmt.Errorf("connecting to the source: %w", err)
	}
	var targetStore target.ObjectStore
	if u, _ := url.Parse(c.Target); u != nil && u.Scheme == "s3" {
		tcfg := c.Source
		if c.TargetS3 != nil {
			tcfg = *c.TargetS3
			if tcfg.Region == "" {
				tcfg.Region = c.Source.Region
			}
		}
		ts, err := s3store.New(ctx, storeConfig(tcfg))
		if err != nil {
			return nil, fmt.Errorf("connecting to the target: %w", err)
		}
		targetStore = ts
	}
	tgt, err := target.Open(c.Target, targetStore)
	if err != nil {
		return nil, err
	}
	opts := map[string]decode.Options{}
	for _, t := range c.Tables {
		opts[t.Name] = decodeOptions(t)
	}
	return &adapters{source: source, target: tgt, pipeline: pipeline.New(source, tgt, opts, nil)}, nil
}

func decodeOptions(t config.Table) decode.Options {
	return decode.Options{
		Format: decode.Format(t.Format),
		CSV: decode.CSVOptions{
			Delimiter:  []rune(t.CSV.Delimiter)[0],
			Quote:      []rune(t.CSV.Quote)[0],
			Header:     *t.CSV.Header,
			NullValues: t.CSV.NullValues,
		},
	}
}

func coordinatorTables(c config.Config) ([]coordinator.Table, error) {
	var out []coordinator.Table
	for i, t := range c.Tables {
		ct := coordinator.Table{Name: t.Name, Prefix: t.Prefix}
		if t.Glob != "" {
			g, err := config.CompileGlob(t.Glob)
			if err != nil {
				return nil, err
			}
			ct.Match = g.Match
		}
		if len(t.Schema) > 0 {
			fields := make([]messages.Field, len(t.Schema))
			for j, col := range t.Schema {
				fields[j] = messages.Field{Name: col.Name, Type: col.Type, Nullable: col.Nullable == nil || *col.Nullable}
			}
			schema, err := decode.SchemaFromFields(fields)
			if err != nil {
				return nil, fmt.Errorf("tables[%d].schema: %w", i, err)
			}
			if ct.Schema, err = decode.EncodeSchema(schema); err != nil {
				return nil, fmt.Errorf("tables[%d].schema: %w", i, err)
			}
		}
		out = append(out, ct)
	}
	return out, nil
}

// queueOptions derive the JetStream settings from the config.
func queueOptions(c config.Config) natsq.Options {
	return natsq.Options{AckWait: time.Duration(c.NATS.AckWait), Replicas: c.NATS.Replicas}
}

type natsConn struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	queue *natsq.Queue
	state *natsq.State
}

func connectNATS(ctx context.Context, url, name, job string, c config.Config) (*natsConn, error) {
	nc, js, err := natsq.Connect(ctx, url, name)
	if err != nil {
		return nil, err
	}
	q, st, err := openJetStream(ctx, js, job, c)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &natsConn{nc: nc, js: js, queue: q, state: st}, nil
}

func workerConfig(c config.Config, id string, slots int) worker.Config {
	return worker.Config{
		ID:    id,
		Slots: slots,
		Policy: worker.Policy{
			MaxAttempts: c.Retry.MaxAttempts,
			Backoff:     time.Duration(c.Retry.Backoff),
			MaxBackoff:  time.Duration(c.Retry.MaxBackoff),
		},
		Heartbeat: time.Duration(c.NATS.AckWait) / 4,
	}
}

// deliveries adapts the NATS queue to the worker's Queue, whose Next returns
// the worker's Delivery interface.
type deliveries struct{ q *natsq.Queue }

func (d deliveries) Next(ctx context.Context) (worker.Delivery, error) {
	del, err := d.q.Next(ctx)
	if err != nil {
		return nil, err
	}
	return del, nil
}
