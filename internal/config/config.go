// Package config owns s3load's configuration file: its schema, defaults,
// environment expansion and validation. Every process of a load (the
// coordinator, each worker, s3load run) reads the same file.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gopkg.in/yaml.v3"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/worker"
)

// Config is one full load: where the files are, which tables they form, and
// where the tables go. Zero values mean "use the default"; WithDefaults fills
// them in and Validate rejects what cannot work.
type Config struct {
	// Source is the bucket the tables are read from. s3load only ever reads it.
	Source S3 `yaml:"source"`
	// Tables are the folders of the source bucket, each loaded as one table.
	Tables []Table `yaml:"tables"`
	// Target is where committed tables go: file:///abs/path or s3://bucket/prefix.
	Target string `yaml:"target"`
	// TableFormat is what a committed table is: iceberg (default) or
	// parquet.
	TableFormat string `yaml:"table_format"`
	// ParquetEncodings is how data files lay out their values: delta
	// (default: integer, date and timestamp columns DELTA_BINARY_PACKED,
	// faster to write and smaller), plain (every column PLAIN, for
	// readers older than Spark 3.3 or Iceberg Java 1.10's vectorized one)
	// or compact (delta, and float columns BYTE_STREAM_SPLIT: smaller
	// still, for DuckDB, Trino, pyarrow and other readers that know it).
	ParquetEncodings string `yaml:"parquet_encodings"`
	// Namespace is the Iceberg namespace of every table of this config
	// (levels separated by '.'; default "default"). The tables live at
	// <target>/<namespace levels>/<table>.
	Namespace string `yaml:"namespace"`
	// Catalog registers the Iceberg tables; absent: a filesystem catalog
	// in the target itself.
	Catalog *Catalog `yaml:"catalog"`
	// KeepSnapshots is how many snapshots an Iceberg table keeps: older
	// ones expire after a commit, with their data files (default 5). The
	// delete a masking load stages before its own snapshot does not count.
	KeepSnapshots int `yaml:"keep_snapshots"`
	// TargetS3 holds the connection settings for an s3:// target; when absent
	// the source's settings (region, endpoint, credentials) are used.
	TargetS3 *S3 `yaml:"target_s3"`
	// NATS is the queue and state store; an empty URL makes `s3load run` embed one.
	NATS NATS `yaml:"nats"`
	// Workers is the number of in-process workers of `s3load run`; default: CPUs.
	Workers int `yaml:"workers"`
	// MaxFailedFiles is, per table, how many files may fail (or change) and the
	// table still commit. Default 0: any failure keeps the old table.
	MaxFailedFiles int `yaml:"max_failed_files"`
	// Retry bounds how often one file is tried.
	Retry Retry `yaml:"retry"`
	// Batch loads small files several to a task and a part.
	Batch Batch `yaml:"batch"`
	// Split loads big files by byte ranges, one task each.
	Split Split `yaml:"split"`
	// Limits bound what one file may cost a worker, so hostile input fails
	// that file instead of the worker.
	Limits Limits `yaml:"limits"`
	// Coordinator tunes how the coordinator watches over a load.
	Coordinator Coordinator `yaml:"coordinator"`
	// StartupWait is how long a starting process waits for NATS and the S3
	// endpoints to answer at all (a container started beside them, a
	// restart during a short outage) before it gives up naming the cause.
	// Problems only a person can fix (credentials, a missing bucket...)
	// end it at once (default DefaultStartupWait).
	StartupWait Duration `yaml:"startup_wait"`
}

// Coordinator tunes the coordinator's watch over a load.
type Coordinator struct {
	// CheckInterval is how often each table's queue and records are
	// checked: lost tasks, deleted records and a recreated task stream
	// are repaired within two of these (default 10s).
	CheckInterval Duration `yaml:"check_interval"`
	// LeaseTTL: a standby coordinator takes a job over once its lease has
	// not been renewed for this long (default 30s).
	LeaseTTL Duration `yaml:"lease_ttl"`
	// ProbeLocalMax: a table of more files than this has its pre-flight
	// (every file's schema read) spread over the workers as probe tasks;
	// a smaller one is probed by the coordinator itself (default 64).
	ProbeLocalMax int `yaml:"probe_local_max"`
}

// Limits bound one file's cost to a worker.
type Limits struct {
	// MaxDecompressedBytes caps the bytes one compressed file may expand to
	// (default DefaultMaxDecompressedBytes).
	MaxDecompressedBytes ByteSize `yaml:"max_decompressed_bytes"`
	// MaxCompressionRatio caps decompressed bytes per compressed byte of a
	// file (default DefaultMaxCompressionRatio; files expand to at least
	// 64 MiB whatever their ratio). Real data compresses 3-20x; a
	// decompression bomb, 1000x and more.
	MaxCompressionRatio int `yaml:"max_compression_ratio"`
	// MaxTempBytes caps the temporary disk one worker process uses at once
	// (decompressed Parquet, parts spooled for an S3 target, the small
	// files s3load run keeps from its pre-flight for their load); default
	// DefaultMaxTempBytes.
	MaxTempBytes ByteSize `yaml:"max_temp_bytes"`
	// TempDir is where those files go (default: the system's temporary
	// directory).
	TempDir string `yaml:"temp_dir"`
}

// SplitBytes is the coordinator's split size: negative when splitting is off.
func (c Config) SplitBytes() int64 {
	if c.Split.Disabled {
		return -1
	}
	return int64(c.Split.RangeBytes)
}

// Split cuts a big uncompressed CSV, JSON lines or Parquet file into byte
// ranges loaded by separate tasks (Parquet by row groups), so one big file
// is not one worker's problem. Each range is its own part.
type Split struct {
	// RangeBytes: files larger than this are split into ranges of about
	// this size (default 256 MiB).
	RangeBytes ByteSize `yaml:"range_bytes"`
	// Disabled loads every file whole.
	Disabled bool `yaml:"disabled"`
}

// Batch groups small files: a queue message, a Parquet part and an fsync
// per file cost more than a 10 KB file's data.
type Batch struct {
	// Files is the most files in one task (default 64; 1 turns batching off).
	Files int `yaml:"files"`
	// MaxFileBytes: files up to this size are batched (default 1 MiB).
	MaxFileBytes ByteSize `yaml:"max_file_bytes"`
}

// S3 is a connection to an S3 or S3-compatible store.
type S3 struct {
	Region    string `yaml:"region"`
	Bucket    string `yaml:"bucket"`
	Endpoint  string `yaml:"endpoint"`
	PathStyle bool   `yaml:"path_style"`
	// AccessKeyID and SecretAccessKey are both set or both empty; empty means
	// the standard AWS credential chain.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey Secret `yaml:"secret_access_key"`
	// ACL, SSE and SSEKMSKeyID are for target_s3 only: every object s3load
	// writes carries them. ACL is a canned ACL, e.g. bucket-owner-full-control
	// for a bucket owned by another account; SSE is AES256, aws:kms or
	// aws:kms:dsse; SSEKMSKeyID (aws:kms* only) names the KMS key. Empty
	// leaves the bucket's defaults.
	ACL         string `yaml:"acl"`
	SSE         string `yaml:"sse"`
	SSEKMSKeyID string `yaml:"sse_kms_key_id"`
}

// Table is one folder of the source bucket.
type Table struct {
	Name   string `yaml:"name"`
	Prefix string `yaml:"prefix"`
	// Glob filters keys below Prefix ("**" spans folders); empty matches all.
	Glob string `yaml:"glob"`
	// Format is csv, json or parquet; empty means "from each file's extension".
	Format string `yaml:"format"`
	CSV    CSV    `yaml:"csv"`
	// Schema declares the table's columns; empty means "decided from every
	// file" under SchemaPolicy.
	Schema []Column `yaml:"schema"`
	// SchemaPolicy is consistent, union or declared (see Policy).
	SchemaPolicy string `yaml:"schema_policy"`
	// Columns override single columns' types, with any policy.
	Columns map[string]ColumnOverride `yaml:"columns"`
	// ExtraColumns is ignore or fail (the default): what a declared table
	// does with a file's columns it does not declare.
	ExtraColumns string `yaml:"extra_columns"`
	// OnError is fail_file (the default) or skip_row: a bad row is skipped
	// into the table <name>__rejects instead of failing its file.
	OnError string `yaml:"on_error"`
	// MaxRejectedRows bounds skipped rows, per file and per table: a count
	// ("10") or a percentage of the rows read ("1%"); unset: no bound.
	MaxRejectedRows string `yaml:"max_rejected_rows"`
	// AllowEmpty lets a table whose listing matches no file commit empty.
	// Without it such a table fails and keeps its previous commit: a typo
	// in a prefix must not replace a good table with an empty one.
	AllowEmpty bool `yaml:"allow_empty"`
}

// CSV is the dialect of a table's CSV files.
type CSV struct {
	Delimiter string `yaml:"delimiter"`
	// Quote "" given explicitly turns quoting off (NoQuote); absent means '"'.
	Quote string `yaml:"quote"`
	// NoQuote is set when the file says quote: "".
	NoQuote bool `yaml:"-"`
	// Escape escapes a quote or itself inside a quoted field; "" means
	// none (a quote is doubled).
	Escape string `yaml:"escape"`
	// SkipRows lines are dropped before the header.
	SkipRows int `yaml:"skip_rows"`
	// Comment starts lines that are skipped; "" means none.
	Comment string `yaml:"comment"`
	// DecimalSeparator is "." (the default) or ",".
	DecimalSeparator string `yaml:"decimal_separator"`
	// Timezone is the zone of timestamps without an offset (default UTC).
	Timezone   string   `yaml:"timezone"`
	Header     *bool    `yaml:"header"`
	NullValues []string `yaml:"null_values"`
	// Detect says which of delimiter, quote and header the file left
	// unset: WithDefaults still fills them (',' '"' true), but the loader
	// detects them per table from the first file it samples.
	Detect CSVDetect `yaml:"-"`
}

// CSVDetect names the dialect settings to detect rather than take as given.
type CSVDetect struct{ Delimiter, Quote, Header bool }

// UnmarshalYAML tells quote: "" (quoting off) from no quote key.
func (c *CSV) UnmarshalYAML(n *yaml.Node) error {
	type plain CSV
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = CSV(p)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "quote" && c.Quote == "" && n.Content[i+1].Tag != "!!null" {
			c.NoQuote = true
		}
	}
	return nil
}

// Column is one declared column of a table.
type Column struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type"`
	Nullable *bool  `yaml:"nullable"`
}

// NATS locates the JetStream server and says how to authenticate to it.
type NATS struct {
	// URL is nats://host:4222 (tls:// for TLS); several may be given
	// separated by commas. A user and password in it are never printed.
	URL string `yaml:"url"`
	// AckWait is how long a worker may hold a task without a heartbeat.
	AckWait Duration `yaml:"ack_wait"`
	// Replicas of the task stream and the state bucket: 1, or 3 (or 5) on
	// a NATS cluster, so losing a node loses nothing.
	Replicas int `yaml:"replicas"`
	// At most one way to authenticate: a creds file (JWT and NKey seed),
	// an NKey seed file, a user and password, or a token.
	CredsFile string `yaml:"creds_file"`
	NKeyFile  string `yaml:"nkey_file"`
	User      string `yaml:"user"`
	Password  Secret `yaml:"password"`
	Token     Secret `yaml:"token"`
	// TLS verifies the server with CAFile and presents a client
	// certificate when CertFile and KeyFile are set.
	TLS TLS `yaml:"tls"`
}

// TLS is the client side of a TLS connection.
type TLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Retry bounds how long passing errors are retried.
type Retry struct {
	// MaxDuration is how long a file (and any one operation of the
	// coordinator) keeps being retried after transient errors (network,
	// 5xx, throttling, NATS leader elections) before it fails: a time
	// budget, so an outage is waited out rather than counted
	// (default DefaultRetryMaxDuration).
	MaxDuration Duration `yaml:"max_duration"`
	// MaxAttempts counts attempts that never finished because their worker
	// died or hung: a file that kills every worker stops being handed out.
	MaxAttempts int      `yaml:"max_attempts"`
	Backoff     Duration `yaml:"backoff"`
	MaxBackoff  Duration `yaml:"max_backoff"`
	// NoProgressTimeout: a file whose loading reads and decodes nothing for
	// this long is stuck, and is given to another worker. A file that keeps
	// making progress is never taken away, however long it takes
	// (default DefaultNoProgressTimeout).
	NoProgressTimeout Duration `yaml:"no_progress_timeout"`
}

// Secret is a string that never prints: logs, errors and reports see "[redacted]".
type Secret string

func (Secret) String() string               { return "[redacted]" }
func (Secret) GoString() string             { return "[redacted]" }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }
func (s Secret) Reveal() string             { return string(s) }
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }
func (s S3) String() string {
	return fmt.Sprintf("s3://%s (region %s, endpoint %q)", s.Bucket, s.Region, s.Endpoint)
}
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalYAML reads "90s", "2m" and the like.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("parsing duration %q: %w", n.Value, err)
	}
	*d = Duration(v)
	return nil
}

// ByteSize is a number of bytes written as 1048576, "256MiB", "64GiB" or
// "10GB" in YAML.
type ByteSize int64

var byteUnits = map[string]int64{
	"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
}

var byteSizeRe = regexp.MustCompile(`^\s*([0-9]+)\s*([A-Za-z]*)\s*$`)

// UnmarshalYAML reads a plain number or a number with a unit.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	m := byteSizeRe.FindStringSubmatch(n.Value)
	if m == nil {
		return fmt.Errorf("parsing size %q: want a number of bytes such as 1048576 or 256MiB", n.Value)
	}
	unit, ok := byteUnits[strings.ToUpper(m[2])]
	v, err := strconv.ParseInt(m[1], 10, 64)
	if !ok || err != nil || v > math.MaxInt64/unit {
		return fmt.Errorf("parsing size %q: want a number of bytes such as 1048576 or 256MiB", n.Value)
	}
	*b = ByteSize(v * unit)
	return nil
}

// Load reads, expands and validates the config file at path, with defaults
// applied.
func Load(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	c, err := Parse(raw, os.LookupEnv)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// LoadForWatching is Load for the commands that only read the job's state
// (status, history): a credential of the source or target store whose
// ${VAR} is unset on this host is left as a placeholder, since those
// commands never use it and a host that watches a fleet should not need
// its S3 secrets. Credentials are not part of the job's identity, so the
// job is the same. Any other unset variable is still an error.
func LoadForWatching(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	c, err := parse(raw, func(key, name string) (string, bool) {
		if v, ok := os.LookupEnv(name); ok {
			return v, true
		}
		last := key[strings.LastIndex(key, ".")+1:]
		store := strings.HasPrefix(key, "source.") || strings.HasPrefix(key, "target_s3.")
		if store && (last == "access_key_id" || last == "secret_access_key" || last == "session_token") {
			return "unset-" + name, true
		}
		return "", false
	})
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a config document. ${VAR} in any value is expanded through
// lookup; an unset variable is an error naming the key. Unknown keys are
// rejected with their full path.
func Parse(raw []byte, lookup func(string) (string, bool)) (Config, error) {
	return parse(raw, func(_, name string) (string, bool) { return lookup(name) })
}

// parse is Parse with a lookup told which key the variable is in.
func parse(raw []byte, lookup func(key, name string) (string, bool)) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return Config{}, fmt.Errorf("parsing yaml: %w", err)
	}
	if len(doc.Content) == 0 {
		return Config{}, errors.New("the config is empty")
	}
	if err := expandEnv(doc.Content[0], "", lookup); err != nil {
		return Config{}, err
	}
	if err := checkKeys(doc.Content[0], "", configType); err != nil {
		return Config{}, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(mustMarshal(&doc)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("decoding: %w", err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func mustMarshal(n *yaml.Node) []byte {
	b, err := yaml.Marshal(n)
	if err != nil {
		// A node tree yaml just parsed always marshals.
		panic(fmt.Sprintf("re-encoding parsed yaml: %v", err))
	}
	return b
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func expandEnv(n *yaml.Node, path string, lookup func(key, name string) (string, bool)) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var missing string
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			v, ok := lookup(path, name)
			if !ok && missing == "" {
				missing = name
			}
			return v
		})
		if missing != "" {
			return fmt.Errorf("%s: environment variable %s is not set", path, missing)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := expandEnv(n.Content[i+1], join(path, n.Content[i].Value), lookup); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := expandEnv(c, fmt.Sprintf("%s[%d]", path, i), lookup); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Defaults of the values a config leaves unset. Those of a setting that
// configures a package are that package's own default, named here so a
// config shows what a run will use; the others are decided here.
const (
	DefaultAckWait              = natsq.DefaultAckWait
	DefaultRetryMaxDuration     = worker.DefaultMaxDuration
	DefaultRetryMaxAttempts     = worker.DefaultMaxAttempts
	DefaultRetryBackoff         = worker.DefaultBackoff
	DefaultRetryMaxBackoff      = worker.DefaultMaxBackoff
	DefaultNoProgressTimeout    = worker.DefaultNoProgressTimeout
	DefaultStartupWait          = 30 * time.Second
	DefaultBatchFiles           = coordinator.DefaultBatchFiles
	DefaultBatchMaxFileBytes    = coordinator.DefaultSmallFileBytes
	DefaultSplitRangeBytes      = coordinator.DefaultSplitBytes
	DefaultMaxDecompressedBytes = 64 << 30
	DefaultMaxCompressionRatio  = 100
	DefaultMaxTempBytes         = 16 << 30
)

// WithDefaults returns c with every unset value filled in.
func (c Config) WithDefaults() Config {
	c.Retry.MaxDuration = cmp.Or(c.Retry.MaxDuration, Duration(DefaultRetryMaxDuration))
	c.Retry.NoProgressTimeout = cmp.Or(c.Retry.NoProgressTimeout, Duration(DefaultNoProgressTimeout))
	c.StartupWait = cmp.Or(c.StartupWait, Duration(DefaultStartupWait))
	c.Limits.MaxDecompressedBytes = cmp.Or(c.Limits.MaxDecompressedBytes, DefaultMaxDecompressedBytes)
	c.Limits.MaxCompressionRatio = cmp.Or(c.Limits.MaxCompressionRatio, DefaultMaxCompressionRatio)
	c.Limits.MaxTempBytes = cmp.Or(c.Limits.MaxTempBytes, DefaultMaxTempBytes)
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.NATS.Replicas == 0 {
		c.NATS.Replicas = 1
	}
	c.NATS.AckWait = cmp.Or(c.NATS.AckWait, Duration(DefaultAckWait))
	c.Retry.MaxAttempts = cmp.Or(c.Retry.MaxAttempts, DefaultRetryMaxAttempts)
	c.Retry.Backoff = cmp.Or(c.Retry.Backoff, Duration(DefaultRetryBackoff))
	c.Retry.MaxBackoff = cmp.Or(c.Retry.MaxBackoff, Duration(DefaultRetryMaxBackoff))
	if c.Source.Region == "" {
		c.Source.Region = "us-east-1"
	}
	c.Batch.Files = cmp.Or(c.Batch.Files, DefaultBatchFiles)
	c.Batch.MaxFileBytes = cmp.Or(c.Batch.MaxFileBytes, DefaultBatchMaxFileBytes)
	c.Split.RangeBytes = cmp.Or(c.Split.RangeBytes, DefaultSplitRangeBytes)
	c.TableFormat = cmp.Or(c.TableFormat, DefaultTableFormat)
	c.ParquetEncodings = cmp.Or(c.ParquetEncodings, DefaultParquetEncodings)
	if c.TableFormat == FormatIceberg {
		c.Namespace = cmp.Or(c.Namespace, DefaultNamespace)
		c.KeepSnapshots = cmp.Or(c.KeepSnapshots, DefaultKeepSnapshots)
		if c.Catalog != nil {
			cat := *c.Catalog
			cat.Type = cmp.Or(cat.Type, DefaultCatalogType)
			c.Catalog = &cat
		}
	}
	tables := make([]Table, len(c.Tables))
	for i, t := range c.Tables {
		if t.CSV.Delimiter == "" {
			t.CSV.Delimiter = ","
			t.CSV.Detect.Delimiter = true
		}
		if t.CSV.Quote == "" && !t.CSV.NoQuote {
			t.CSV.Quote = `"`
			t.CSV.Detect.Quote = true
		}
		if t.CSV.Header == nil {
			t.CSV.Detect.Header = true
			header := true
			t.CSV.Header = &header
		}
		if t.CSV.NullValues == nil {
			t.CSV.NullValues = []string{""}
		}
		tables[i] = t
	}
	c.Tables = tables
	return c
}

var tableName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// Validate reports the first value that cannot work, naming its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	validateS3(c.Source, "source", true, bad)
	if c.TargetS3 != nil {
		validateS3(*c.TargetS3, "target_s3", false, bad)
	}
	c.validateTableFormat(bad)
	switch c.ParquetEncodings {
	case EncodingsDelta, EncodingsPlain, EncodingsCompact:
	default:
		bad("parquet_encodings", "must be %s, %s or %s (got %q)", EncodingsDelta, EncodingsPlain, EncodingsCompact, c.ParquetEncodings)
	}
	if len(c.Tables) == 0 {
		bad("tables", "at least one table is required")
	}
	seen := map[string]bool{}
	for i, t := range c.Tables {
		key := fmt.Sprintf("tables[%d]", i)
		switch {
		case !tableName.MatchString(t.Name):
			bad(key+".name", "must be 1-128 letters, digits, '_' or '-' (got %q)", t.Name)
		case seen[t.Name]:
			bad(key+".name", "table %q is named twice", t.Name)
		}
		seen[t.Name] = true
		if t.Glob != "" {
			if _, err := CompileGlob(t.Glob); err != nil {
				bad(key+".glob", "%v", err)
			}
		}
		switch t.Format {
		case "", "csv", "json", "parquet":
		default:
			bad(key+".format", "must be csv, json or parquet (got %q)", t.Format)
		}
		if n := len([]rune(t.CSV.Delimiter)); n != 1 {
			bad(key+".csv.delimiter", "must be one character (got %q)", t.CSV.Delimiter)
		}
		validateCSV(t.CSV, key+".csv", bad)
		validateSchemaPolicy(t, key, bad)
		for j, col := range t.Schema {
			if col.Name == "" {
				bad(fmt.Sprintf("%s.schema[%d].name", key, j), "is required")
			}
			if col.Type == "" {
				bad(fmt.Sprintf("%s.schema[%d].type", key, j), "is required")
			}
		}
	}
	if err := validateTarget(c, bad); err != nil {
		errs = append(errs, err)
	}
	validateNATS(c.NATS, bad)
	if c.NATS.Replicas < 1 || c.NATS.Replicas > 5 {
		bad("nats.replicas", "must be 1 to 5 (got %d)", c.NATS.Replicas)
	}
	if c.Workers < 1 {
		bad("workers", "must be at least 1 (got %d)", c.Workers)
	}
	if c.MaxFailedFiles < 0 {
		bad("max_failed_files", "must not be negative (got %d)", c.MaxFailedFiles)
	}
	if c.Batch.Files < 1 {
		bad("batch.files", "must be at least 1 (got %d)", c.Batch.Files)
	}
	if c.Batch.MaxFileBytes < 0 || c.Batch.MaxFileBytes > 64<<20 {
		bad("batch.max_file_bytes", "must be 0 to 64 MiB: a batch's files are held in memory one at a time (got %d)", c.Batch.MaxFileBytes)
	}
	if c.Split.RangeBytes < 1<<20 {
		bad("split.range_bytes", "must be at least 1 MiB (got %d)", c.Split.RangeBytes)
	}
	if c.Retry.MaxAttempts < 1 {
		bad("retry.max_attempts", "must be at least 1 (got %d)", c.Retry.MaxAttempts)
	}
	if time.Duration(c.NATS.AckWait) < time.Second {
		bad("nats.ack_wait", "must be at least 1s (got %s)", time.Duration(c.NATS.AckWait))
	}
	if time.Duration(c.Retry.MaxDuration) < time.Second {
		bad("retry.max_duration", "must be at least 1s (got %s)", time.Duration(c.Retry.MaxDuration))
	}
	if c.Coordinator.CheckInterval < 0 || c.Coordinator.LeaseTTL < 0 {
		bad("coordinator", "durations must not be negative")
	}
	if c.Coordinator.ProbeLocalMax < 0 {
		bad("coordinator.probe_local_max", "must not be negative (got %d)", c.Coordinator.ProbeLocalMax)
	}
	if c.Limits.MaxDecompressedBytes < 0 || c.Limits.MaxCompressionRatio < 0 || c.Limits.MaxTempBytes < 0 {
		bad("limits", "values must not be negative")
	}
	return errors.Join(errs...)
}

// validateNATS checks the NATS block; a URL is never echoed whole, since it
// may carry a password.
func validateNATS(n NATS, bad func(key, format string, args ...any)) {
	if n.URL != "" {
		for _, one := range strings.Split(n.URL, ",") {
			u, err := url.Parse(strings.TrimSpace(one))
			if err != nil || u.Host == "" {
				bad("nats.url", "must be a URL such as nats://host:4222")
				break
			}
		}
	}
	ways := 0
	for _, set := range []bool{n.CredsFile != "", n.NKeyFile != "", n.User != "" || n.Password != "", n.Token != ""} {
		if set {
			ways++
		}
	}
	if ways > 1 {
		bad("nats", "give at most one of creds_file, nkey_file, user/password and token")
	}
	if (n.User == "") != (n.Password == "") {
		bad("nats", "user and password must be given together")
	}
	if (n.TLS.CertFile == "") != (n.TLS.KeyFile == "") {
		bad("nats.tls", "cert_file and key_file must be given together")
	}
}

// validateS3 checks a store's block; the source's needs a bucket and takes
// no write settings. The KMS key id is never echoed, as a precaution.
func validateS3(s S3, key string, source bool, bad func(key, format string, args ...any)) {
	if source && s.Bucket == "" {
		bad(key+".bucket", "is required")
	}
	if source {
		for _, set := range []struct{ name, value string }{{"acl", s.ACL}, {"sse", s.SSE}, {"sse_kms_key_id", s.SSEKMSKeyID}} {
			if set.value != "" {
				bad(key+"."+set.name, "is for target_s3 only: s3load never writes to its source")
			}
		}
	} else {
		validateWrites(s, key, bad)
	}
	if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
		bad(key, "access_key_id and secret_access_key must be given together (or neither, for the AWS credential chain)")
	}
	if s.Endpoint != "" {
		if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key+".endpoint", "must be an http:// or https:// URL (got %q)", s.Endpoint)
		}
	}
}

// validateWrites checks the write settings of target_s3 against the SDK's
// values.
func validateWrites(s S3, key string, bad func(key, format string, args ...any)) {
	// The SDK's list less the encryptions S3 sets on its own (aws:fsx,
	// aws:backup).
	sseValues := []types.ServerSideEncryption{
		types.ServerSideEncryptionAes256, types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse,
	}
	if acls := types.ObjectCannedACL("").Values(); s.ACL != "" && !slices.Contains(acls, types.ObjectCannedACL(s.ACL)) {
		bad(key+".acl", "must be a canned ACL: one of %s (got %q)", joinValues(acls), s.ACL)
	}
	if s.SSE != "" && !slices.Contains(sseValues, types.ServerSideEncryption(s.SSE)) {
		bad(key+".sse", "must be one of %s (got %q)", joinValues(sseValues), s.SSE)
	}
	kms := s.SSE == string(types.ServerSideEncryptionAwsKms) || s.SSE == string(types.ServerSideEncryptionAwsKmsDsse)
	if s.SSEKMSKeyID != "" && !kms {
		bad(key+".sse_kms_key_id", "needs sse: aws:kms or aws:kms:dsse")
	}
}

func joinValues[T ~string](vs []T) string {
	ss := make([]string, len(vs))
	for i, v := range vs {
		ss[i] = string(v)
	}
	return strings.Join(ss, ", ")
}

func validateTarget(c Config, bad func(key, format string, args ...any)) error {
	if c.Target == "" {
		bad("target", "is required (file:///path or s3://bucket/prefix)")
		return nil
	}
	u, err := url.Parse(c.Target)
	if err != nil {
		bad("target", "not a URL: %v", err)
		return nil
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			bad("target", "a file target is file:///absolute/path (got %q)", c.Target)
		}
	case "s3":
		if u.Host == "" {
			bad("target", "an s3 target is s3://bucket/prefix (got %q)", c.Target)
		}
		sameStore := c.TargetS3 == nil || c.TargetS3.Endpoint == c.Source.Endpoint
		if u.Host == c.Source.Bucket && sameStore {
			bad("target", "must not be in the source bucket %q: s3load never writes to its source", c.Source.Bucket)
		}
	default:
		bad("target", "scheme must be file or s3 (got %q)", c.Target)
	}
	return nil
}

// validateCSV checks a table's CSV dialect: single characters, distinct
// where they must be.
func validateCSV(c CSV, key string, bad func(key, format string, args ...any)) {
	if c.NoQuote {
		if c.Quote != "" {
			bad(key+".quote", "must be empty when quoting is off (got %q)", c.Quote)
		}
	} else if n := len([]rune(c.Quote)); n != 1 {
		bad(key+".quote", "must be one character, or \"\" for no quoting (got %q)", c.Quote)
	} else if c.Quote == c.Delimiter {
		bad(key+".quote", "must differ from the delimiter")
	}
	for _, o := range []struct{ name, v string }{{"escape", c.Escape}, {"comment", c.Comment}} {
		if o.v == "" {
			continue
		}
		if n := len([]rune(o.v)); n != 1 {
			bad(key+"."+o.name, "must be one character (got %q)", o.v)
		} else if o.v == c.Delimiter || o.v == "\n" || o.v == "\r" {
			bad(key+"."+o.name, "must not be the delimiter or a line end (got %q)", o.v)
		}
	}
	if c.Escape != "" && c.NoQuote {
		bad(key+".escape", "has no use when quoting is off")
	}
	if c.SkipRows < 0 {
		bad(key+".skip_rows", "must be 0 or more (got %d)", c.SkipRows)
	}
}
