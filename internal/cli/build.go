package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/metrics"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/internal/pipeline"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// jobSpec is what a config says about its job: everything that decides
// what is loaded and how, and nothing secret. The same spec is the same job
// (a restarted coordinator finds its open load), and a worker whose spec
// differs from the coordinator's is told what differs.
func jobSpec(c config.Config) messages.JobSpec {
	s := messages.JobSpec{}
	set := func(k, v string) {
		if v != "" {
			s[k] = v
		}
	}
	set("source.endpoint", c.Source.Endpoint)
	set("source.bucket", c.Source.Bucket)
	set("target", c.Target)
	set("table_format", c.TableFormat)
	if c.ParquetEncodings != config.DefaultParquetEncodings {
		// Absent at the default, so the default keeps the job IDs of
		// configs written before the setting existed.
		set("parquet_encodings", c.ParquetEncodings)
	}
	set("namespace", c.Namespace)
	if c.Catalog != nil {
		set("catalog.type", c.Catalog.Type)
		set("catalog.uri", lake.RedactURL(c.Catalog.URI))
	}
	for i, t := range c.Tables {
		p := fmt.Sprintf("tables[%d].", i)
		set(p+"name", t.Name)
		set(p+"prefix", t.Prefix)
		set(p+"glob", t.Glob)
		set(p+"format", t.Format)
		set(p+"csv.delimiter", t.CSV.Delimiter)
		set(p+"csv.quote", t.CSV.Quote)
		set(p+"csv.header", strconv.FormatBool(t.CSV.Header == nil || *t.CSV.Header))
		set(p+"csv.null_values", strconv.Quote(strings.Join(t.CSV.NullValues, "\x00")))
		set(p+"csv.escape", t.CSV.Escape)
		set(p+"csv.comment", t.CSV.Comment)
		if t.CSV.SkipRows > 0 {
			set(p+"csv.skip_rows", strconv.Itoa(t.CSV.SkipRows))
		}
		if t.CSV.NoQuote {
			set(p+"csv.quote", "off")
		}
		for j, col := range t.Schema {
			set(fmt.Sprintf("%sschema[%d]", p, j), fmt.Sprintf("%s %s nullable=%t", col.Name, col.Type, col.Nullable == nil || *col.Nullable))
		}
		if t.AllowEmpty {
			set(p+"allow_empty", "true")
		}
		set(p+"schema_policy", t.Policy())
		for _, name := range t.ColumnNames() {
			o := t.Columns[name]
			set(p+"columns."+name, strings.TrimSpace(o.Type+" "+o.Format))
		}
		set(p+"extra_columns", t.ExtraColumns)
		set(p+"on_error", t.OnError)
		set(p+"max_rejected_rows", t.MaxRejectedRows)
		set(p+"csv.decimal_separator", t.CSV.DecimalSeparator)
		set(p+"csv.timezone", t.CSV.Timezone)
	}
	return s
}

// jobID names the job of a config: its spec's hash.
func jobID(c config.Config) string { return jobSpec(c).ID() }

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
	source *s3store.Store
	target *target.Target
	// targetStore and targetBucket are set for an s3:// target.
	targetStore  *s3store.Store
	targetBucket string
	pipeline     *pipeline.Pipeline
	// temp is the process's scratch disk budget (limits.max_temp_bytes).
	temp *tempspace.Budget
	// lake commits Iceberg tables (openLake); nil for plain Parquet.
	lake *lake.Committer
	// closers release what openLake opened (a SQL catalog's database).
	closers []func() error
}

// buildAdapters builds the adapters of config c; m, if set, counts their
// S3 requests.
func buildAdapters(ctx context.Context, c config.Config, m *metrics.Metrics) (*adapters, error) {
	scfg := storeConfig(c.Source)
	if m != nil {
		scfg.Observer = m.S3("source")
	}
	source, err := s3store.New(ctx, scfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the source: %w", err)
	}
	var targetStore target.ObjectStore
	ad := &adapters{source: source}
	if u, _ := url.Parse(c.Target); u != nil && u.Scheme == "s3" {
		tcfg := c.Source
		if c.TargetS3 != nil {
			tcfg = *c.TargetS3
			if tcfg.Region == "" {
				tcfg.Region = c.Source.Region
			}
		}
		scfg := storeConfig(tcfg)
		// Only the target's store writes, so only it gets write settings.
		scfg.Write = s3store.WriteSettings{ACL: tcfg.ACL, SSE: tcfg.SSE, SSEKMSKeyID: tcfg.SSEKMSKeyID}
		if m != nil {
			scfg.Observer = m.S3("target")
		}
		ts, err := s3store.New(ctx, scfg)
		if err != nil {
			return nil, fmt.Errorf("connecting to the target: %w", err)
		}
		targetStore, ad.targetStore, ad.targetBucket = ts, ts, u.Host
	}
	// One budget for all of this process's temporary files: decompressed
	// Parquet and parts spooled for an s3:// target.
	temp := tempspace.New(c.Limits.TempDir, int64(c.Limits.MaxTempBytes))
	ad.temp = temp
	topts := []target.Option{target.WithTemp(temp)}
	if c.TableFormat == config.FormatIceberg {
		topts = append(topts, target.WithLayout(target.Layout{Namespace: c.NamespaceLevels()}))
	}
	tgt, err := target.Open(c.Target, targetStore, topts...)
	if err != nil {
		return nil, err
	}
	opts := map[string]decode.Options{}
	policies := map[string]decode.MergePolicy{}
	limits := map[string]pipeline.RejectLimit{}
	for i, t := range c.Tables {
		if t.OnError == config.OnErrorSkipRow {
			rows, pct, _ := t.RejectLimit() // validated with the config
			limits[t.Name] = pipeline.RejectLimit{Rows: rows, Percent: pct}
		}
		// Both are the config's: a bad type or format is a usage error.
		if opts[t.Name], err = decodeOptions(t, c.Limits, temp); err != nil {
			return nil, usageErr(fmt.Errorf("tables[%d].%w", i, err))
		}
		if policies[t.Name], err = mergePolicy(t); err != nil {
			return nil, usageErr(fmt.Errorf("tables[%d].%w", i, err))
		}
	}
	ad.target, ad.pipeline = tgt, pipeline.New(source, tgt, opts, nil).WithPolicies(policies).WithRejectLimits(limits).WithEncodings(encodings(c))
	return ad, nil
}

// encodings is the config's parquet_encodings for the pipeline; the
// config's validation has rejected any other name.
func encodings(c config.Config) pipeline.Encodings {
	e, _ := pipeline.ParseEncodings(c.ParquetEncodings)
	return e
}

// mergePolicy is how a table's files' schemas merge into its schema (the
// declared schema itself comes with each merge).
func mergePolicy(t config.Table) (decode.MergePolicy, error) {
	p := decode.MergePolicy{Policy: t.Policy(), IgnoreExtra: t.ExtraColumns == config.ExtraColumnsIgnore}
	for _, name := range t.ColumnNames() {
		o := t.Columns[name]
		dt, err := decode.ParseType(o.Type)
		if err != nil {
			return p, fmt.Errorf("columns.%s: %w", name, err)
		}
		f := arrow.Field{Name: name, Type: dt, Nullable: true}
		if o.Format != "" {
			if err := decode.CheckTimeFormat(o.Format); err != nil {
				return p, fmt.Errorf("columns.%s.format: %w", name, err)
			}
			f.Metadata = arrow.NewMetadata([]string{decode.FormatMetaKey}, []string{o.Format})
		}
		if p.Columns == nil {
			p.Columns = map[string]arrow.Field{}
		}
		p.Columns[name] = f
	}
	return p, nil
}

// decodeOptions are a table's decoding settings, with the load's limits
// and the worker's temporary space.
func decodeOptions(t config.Table, l config.Limits, temp *tempspace.Budget) (decode.Options, error) {
	loc := time.UTC
	if t.CSV.Timezone != "" {
		var err error
		if loc, err = time.LoadLocation(t.CSV.Timezone); err != nil {
			return decode.Options{}, fmt.Errorf("csv.timezone: %w", err)
		}
	}
	return decode.Options{
		Format: decode.Format(t.Format),
		CSV: decode.CSVOptions{
			Delimiter:        []rune(t.CSV.Delimiter)[0],
			Quote:            firstRune(t.CSV.Quote),
			NoQuote:          t.CSV.NoQuote,
			Escape:           firstRune(t.CSV.Escape),
			SkipRows:         t.CSV.SkipRows,
			Comment:          firstRune(t.CSV.Comment),
			Header:           *t.CSV.Header,
			NullValues:       t.CSV.NullValues,
			DecimalSeparator: firstByte(t.CSV.DecimalSeparator),
			Location:         loc,
			Detect: decode.CSVDetect{
				Delimiter: t.CSV.Detect.Delimiter,
				Quote:     t.CSV.Detect.Quote,
				Header:    t.CSV.Detect.Header,
			},
		},
		Columns: decode.ColumnPolicy{
			MissingAsNull: t.Policy() == config.PolicyUnion,
			IgnoreExtra:   t.ExtraColumns == config.ExtraColumnsIgnore,
		},
		MaxDecompressedBytes: int64(l.MaxDecompressedBytes),
		MaxCompressionRatio:  l.MaxCompressionRatio,
		Temp:                 temp,
	}, nil
}

// firstByte is a validated one-byte option's byte; 0 for "".
func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

// firstRune is a validated one-character option's character; 0 for "".
func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func coordinatorTables(c config.Config) ([]coordinator.Table, error) {
	var out []coordinator.Table
	for i, t := range c.Tables {
		ct := coordinator.Table{Name: t.Name, Prefix: t.Prefix, Glob: t.Glob, AllowEmpty: t.AllowEmpty}
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
		if t.OnError == config.OnErrorSkipRow {
			var err error
			if ct.RejectsSchema, err = decode.EncodeSchema(pipeline.RejectsSchema()); err != nil {
				return nil, fmt.Errorf("tables[%d]: the reject table's schema: %w", i, err)
			}
			ct.MaxRejectedRows, ct.MaxRejectedPercent, _ = t.RejectLimit() // validated with the config
		}
		out = append(out, ct)
	}
	return out, nil
}

// queueOptions derive the JetStream settings from the config.
func queueOptions(c config.Config) natsq.Options {
	return natsq.Options{AckWait: time.Duration(c.NATS.AckWait), Replicas: c.NATS.Replicas, AsyncPersist: embeddedNATS(c)}
}

// embeddedNATS says the NATS server is the one this process embeds (`s3load
// run` with no nats.url): it and its state serve this process alone.
func embeddedNATS(c config.Config) bool { return c.NATS.URL == "" }

type natsConn struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	queue *natsq.Queue
	state *natsq.State
}

// natsOptions are the connection settings of the config's nats block.
func natsOptions(url, name string, c config.NATS, wait time.Duration, log *slog.Logger) natsq.ConnectOptions {
	return natsq.ConnectOptions{
		URL: url, Name: name,
		CredsFile: c.CredsFile, NKeyFile: c.NKeyFile,
		User: c.User, Password: c.Password.Reveal(), Token: c.Token.Reveal(),
		CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
		Wait: wait, Logger: log,
	}
}

func connectNATS(ctx context.Context, url, name, job string, c config.Config, log *slog.Logger) (*natsConn, error) {
	nc, js, err := natsq.Connect(ctx, natsOptions(url, name, c.NATS, time.Duration(c.StartupWait), log))
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
	spec := jobSpec(c)
	return worker.Config{
		ID:    id,
		Job:   spec.ID(),
		Spec:  spec,
		Host:  hostname(),
		PID:   os.Getpid(),
		Slots: slots,
		Policy: worker.Policy{
			MaxDuration: time.Duration(c.Retry.MaxDuration),
			MaxAttempts: c.Retry.MaxAttempts,
			Backoff:     time.Duration(c.Retry.Backoff),
			MaxBackoff:  time.Duration(c.Retry.MaxBackoff),
		},
		Version:           Version,
		Heartbeat:         time.Duration(c.NATS.AckWait) / 4,
		NoProgressTimeout: time.Duration(c.Retry.NoProgressTimeout),
	}
}

// deliveries adapts the NATS queue to the worker's Queue, whose Next returns
// the worker's Delivery interface.
type deliveries struct{ q *natsq.Queue }

func (d deliveries) Next(ctx context.Context) (worker.Delivery, error) {
	del, err := d.q.Next(ctx)
	if errors.Is(err, natsq.ErrNoTask) {
		return nil, fmt.Errorf("%w: %w", worker.ErrNoTask, err)
	}
	if err != nil {
		return nil, err
	}
	return del, nil
}
