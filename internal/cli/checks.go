package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/tempspace"
)

// check is one connection check. `s3load check` runs them all; `run`,
// `coordinator` and `worker` run those marked startup before they start
// (session.preflight), so both say the same thing about the same setting.
type check struct {
	// name is what is checked ("credentials", "ListBucket"), target what
	// it is checked on ("source s3://src", "table orders").
	name, target string
	// scope begins a start-up check's error: "source: ...".
	scope string
	// endpoint names what a check that got no answer in time asked.
	endpoint string
	// startup: also a start-up check of run, coordinator and worker. The
	// others (GetBucketAcl, each table's prefix, the catalog) are checked
	// later by a load, where a problem ends one table, not the process.
	startup bool
	// gate: when it fails, the rest of its group is not checked: they
	// would fail for the same reason.
	gate bool
	// run returns what it found, for a person, or why it failed.
	run func(ctx context.Context) (detail string, err error)
}

// errSkipped: a check with nothing to check (no object to read because
// every prefix is empty, which the listing already reported).
var errSkipped = errors.New("skipped")

// sampleLimit bounds how many objects of a prefix a check counts.
const sampleLimit = 1000

// storeChecks are the checks of the source bucket, of the target and of
// the temporary disk, one group each, in the order they run.
func storeChecks(c config.Config, ad *adapters) [][]check {
	src := "source s3://" + c.Source.Bucket
	source := bucketChecks(ad.source, c.Source.Bucket, src, "source")
	source = append(source, check{name: "GetBucketAcl", target: src,
		run: func(ctx context.Context) (string, error) {
			if err := ad.source.CheckACL(ctx, c.Source.Bucket); err != nil {
				return "", err
			}
			return "the credentials may read the bucket's ACL", nil
		}})
	var first string // the first object any table's prefix holds, to read
	for i, t := range c.Tables {
		source = append(source, check{name: "ListBucket", target: "table " + t.Name,
			run: func(ctx context.Context) (string, error) {
				where := fmt.Sprintf("s3://%s/%s", c.Source.Bucket, t.Prefix)
				p, err := ad.source.SamplePrefix(ctx, c.Source.Bucket, t.Prefix, sampleLimit)
				if err != nil {
					return "", err
				}
				if p.Count == 0 {
					if t.AllowEmpty {
						return where + ": no object (allow_empty: true)", nil
					}
					return "", emptyPrefixErr(ctx, ad.source, c.Source.Bucket, i, t.Prefix)
				}
				if first == "" {
					first = p.First
				}
				n := fmt.Sprint(p.Count)
				switch {
				case p.More:
					n += "+ objects"
				case p.Count == 1:
					n += " object"
				default:
					n += " objects"
				}
				return fmt.Sprintf("%s: %s, first %s", where, n, p.First), nil
			}})
	}
	source = append(source, check{name: "GetObject", target: src,
		run: func(ctx context.Context) (string, error) {
			if first == "" {
				return "", errSkipped
			}
			if err := ad.source.CheckRead(ctx, c.Source.Bucket, first); err != nil {
				return "", err
			}
			return fmt.Sprintf("read the first byte of s3://%s/%s", c.Source.Bucket, first), nil
		}})

	var target []check
	if ad.targetStore != nil {
		target = bucketChecks(ad.targetStore, ad.targetBucket, "target s3://"+ad.targetBucket, "target")
	}
	// A probe object written and removed in the target, never the source.
	target = append(target, check{name: "writable", target: "target " + c.Target, scope: "target " + c.Target, startup: true,
		run: func(ctx context.Context) (string, error) {
			if err := ad.target.Check(ctx); err != nil {
				return "", err
			}
			return "a probe object was written and removed", nil
		}})
	targetEndpoint := "the target " + c.Target
	if ad.targetStore != nil {
		tcfg := c.Source
		if c.TargetS3 != nil {
			tcfg = *c.TargetS3
		}
		targetEndpoint = storeEndpoint(tcfg.Endpoint, ad.targetStore)
	}
	return [][]check{
		withEndpoint(source, storeEndpoint(c.Source.Endpoint, ad.source)),
		withEndpoint(target, targetEndpoint),
		{tempCheck(ad.temp)},
	}
}

// tempCheck makes and removes a file in limits.temp_dir. A directory that
// is missing or not writable would otherwise show only at the first file
// that needs it (a compressed Parquet file, a part for an s3:// target),
// or not at all: run's small files would quietly be fetched twice.
func tempCheck(temp *tempspace.Budget) check {
	return check{name: "writable", target: "temporary disk " + temp.Dir(), scope: "limits.temp_dir", startup: true,
		run: func(context.Context) (string, error) {
			if err := temp.Check(); err != nil {
				return "", fmt.Errorf("%w: check limits.temp_dir, a directory where this user may create files", err)
			}
			return "a file was created and removed", nil
		}}
}

// storeEndpoint names a store's endpoint in messages.
func storeEndpoint(endpoint string, st *s3store.Store) string {
	if endpoint != "" {
		return endpoint
	}
	return fmt.Sprintf("the S3 endpoint of region %q", st.AWSConfig().Region)
}

func withEndpoint(checks []check, endpoint string) []check {
	for i := range checks {
		checks[i].endpoint = endpoint
	}
	return checks
}

// bucketChecks check a store's credentials, then its bucket and region.
func bucketChecks(st *s3store.Store, bucket, target, scope string) []check {
	return []check{
		{name: "credentials", target: target, scope: scope, startup: true, gate: true,
			run: func(ctx context.Context) (string, error) {
				from, err := st.CheckCredentials(ctx)
				if err != nil {
					return "", err
				}
				return "from " + describeCredentials(from), nil
			}},
		{name: "bucket and region", target: target, scope: scope, startup: true, gate: true,
			run: func(ctx context.Context) (string, error) {
				info, err := st.CheckBucket(ctx, bucket)
				if err != nil {
					return "", err
				}
				configured := st.AWSConfig().Region
				if info.Region != configured {
					// The store served the request all the same.
					return fmt.Sprintf("the bucket answers; the store reports region %q, region is %q", info.Region, configured), nil
				}
				return fmt.Sprintf("the bucket answers in region %q, as configured", configured), nil
			}},
	}
}

// describeCredentials says where credentials came from, never what they
// are: aws.Credentials.Source, as s3store names it.
func describeCredentials(source string) string {
	switch {
	case source == "static":
		return "access_key_id and secret_access_key of the config"
	case source == "environment":
		return "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
	case strings.HasPrefix(source, "shared profile"):
		return "the " + source
	}
	return source
}

// emptyPrefixErr says a prefix matched nothing, with what it may have
// meant.
func emptyPrefixErr(ctx context.Context, st *s3store.Store, bucket string, i int, prefix string) error {
	fix := fmt.Sprintf("check tables[%d].prefix (or set allow_empty: true)", i)
	if near, err := st.SuggestPrefix(ctx, bucket, prefix); err == nil && near != "" && near != prefix {
		fix = fmt.Sprintf("did you mean %q? set tables[%d].prefix to it", near, i)
	}
	return fmt.Errorf("prefix %q matched no object in bucket %s: %s", prefix, bucket, fix)
}
