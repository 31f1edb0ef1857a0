package coordinator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/s3load/s3load/messages"
)

// Fingerprint names everything besides its files that decides a table's
// rows, in two dot-separated parts: the config's (the table's entries of
// the job spec: prefix, format, dialect, null values, declared schema,
// column options...; the table format; the decoders' version), then the
// whole (the config's part with the decided schema, the schema parts are
// written in, their Parquet encodings when not the default, and the
// detected CSV dialect). A committed load's parts are reused by a later
// load only when both loads have the same whole fingerprint: any change
// there may change every row. The config's part alone lets the pre-flight
// skip files whose schema the committed load already knows.
func (c *Coordinator) Fingerprint(i int, rec messages.TableRecord) string {
	cfg := c.configFingerprint(i)
	h := sha256.New()
	put := func(k, v string) { fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(v), v) }
	put("config", cfg)
	put("schema", string(rec.Schema))
	put("write_schema", string(rec.WriteSchema))
	if rec.Preflight != nil {
		put("dialect", rec.Preflight.Dialect)
	}
	// Absent at the default, which keeps the fingerprints of loads made
	// before the setting: parts of other encodings hold the same rows, but
	// a user who asks for plain ones asks for every part to be plain.
	if enc := c.cfg.Spec["parquet_encodings"]; enc != "" {
		put("parquet_encodings", enc)
	}
	return cfg + "." + hex.EncodeToString(h.Sum(nil))[:32]
}

func (c *Coordinator) configFingerprint(i int) string {
	h := sha256.New()
	put := func(k, v string) { fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(v), v) }
	prefix := fmt.Sprintf("tables[%d].", i)
	var keys []string
	for k := range c.cfg.Spec {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		// Without the index: the same table moved in the config is the same.
		put(strings.TrimPrefix(k, prefix), c.cfg.Spec[k])
	}
	put("table_format", c.cfg.Spec["table_format"])
	put("decode_version", c.cfg.DecodeVersion)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// previous reads the table's committed load once per table run, if reuse
// applies: not a full reload, a Reuser wired, no reject table (a reused
// file's rejected rows would be missing from the load's reject table), and
// the same config fingerprint. nil otherwise.
func (tc *tableRun) previous(ctx context.Context) *PreviousLoad {
	c := tc.c
	if tc.prevRead {
		return tc.prev
	}
	tc.prevRead = true
	if c.Reuse == nil || c.cfg.FullReload || len(tc.t.RejectsSchema) > 0 {
		return nil
	}
	var prev PreviousLoad
	started := time.Now()
	err := c.retry(ctx, "reading the committed load of "+tc.t.Name, func() (err error) {
		prev, err = c.Reuse.PreviousLoad(ctx, tc.t.Name)
		return err
	})
	if err != nil {
		// Reuse saves work; without it the load is a full one.
		tc.log.Warn("reading the table's committed load; loading every file", "err", err)
		return nil
	}
	if prev.LoadID == "" {
		return nil
	}
	tc.log.Debug("committed load read", "committed_load", prev.LoadID, "files", len(prev.Files), "took", time.Since(started))
	if cfg, _, _ := strings.Cut(prev.Fingerprint, "."); cfg != c.configFingerprint(tc.idx) {
		tc.log.Info("the table's config or format changed since its committed load; loading every file", "committed_load", prev.LoadID)
		return nil
	}
	tc.prev = &prev
	return tc.prev
}

// knownFiles are the files whose schema the committed load knows: the
// pre-flight counts them in the merge with that schema instead of reading
// them.
func (tc *tableRun) knownFiles(ctx context.Context) *knownFiles {
	return knownFrom(tc.previous(ctx))
}

// knownFrom is the files of prev (nil: none); the pre-flight counts them
// with prev's schema only if prev records one.
func knownFrom(prev *PreviousLoad) *knownFiles {
	if prev == nil {
		return nil
	}
	k := &knownFiles{schema: prev.Schema, ids: make(map[objectVersion]bool, len(prev.Files)), keys: make([]string, 0, len(prev.Files))}
	for _, f := range prev.Files {
		k.ids[versionOf(f.Source)] = true
		k.keys = append(k.keys, f.Source.Key)
	}
	return k
}

type knownFiles struct {
	schema []byte
	ids    map[objectVersion]bool
	keys   []string
}

// splits cut the table's listing into ranges listed at once (see
// listSplits), from the known files' keys (none without them). Made when
// asked: a load that lists ahead has its cuts from the table format and
// never sorts the keys.
func (k *knownFiles) splits() []string {
	if k == nil {
		return nil
	}
	return listSplits(slices.Clone(k.keys))
}

// ListRangesMax bounds the ranges of a table's listing fetched at once,
// where the table's committed load tells its keys.
const ListRangesMax = 8

// listSplits cuts the committed load's keys into ranges for the listing to
// fetch at once: a listing is a chain of pages, each asked for after the
// last, and its time is the store's answer time per page times the pages,
// unless ranges go side by side. The keys a new load lists are mostly the
// committed load's, so its keys are where to cut.
//
// Each range is whole pages of ListPageKeys keys and ends on its last
// page's last key, where listRangesTo stops without asking for more: a range
// ending inside a page would ask for a page past its end, and the store
// would read and send up to a page of keys the next range lists again (on
// a store whose cost is per key listed, 40% more keys for 10,000 keys in
// 5 ranges). nil when the table fits one page.
func listSplits(keys []string) []string {
	slices.Sort(keys)
	keys = slices.Compact(keys) // a split file's ranges share its key
	pages := (len(keys) + ListPageKeys - 1) / ListPageKeys
	n := min(ListRangesMax, pages)
	if n < 2 {
		return nil
	}
	splits := make([]string, 0, n-1)
	for i := 1; i < n; i++ {
		splits = append(splits, keys[pages*i/n*ListPageKeys-1])
	}
	return splits
}

// objectVersion is what messages.Source.Identity names (bucket, key and
// ETag), as a map key: the maps of a repeated load hold every file of the
// committed load, and the identity's SHA-256, computed for each lookup, was
// ~27 ms of a 10,000-file load's CPU.
type objectVersion struct{ bucket, key, etag string }

func versionOf(src messages.Source) objectVersion {
	return objectVersion{src.Bucket, src.Key, src.ETag}
}

func (k *knownFiles) has(src messages.Source) bool {
	return k != nil && len(k.schema) > 0 && k.ids[versionOf(src)]
}

// reusePlan decides, while a table is listed, which files keep their rows
// from the table's committed load. A file is a candidate when the committed
// load holds the same object version (bucket, key, ETag) whole; its part is
// reused as it is when every file the part holds is listed again
// unchanged, which is known once the listing ends, so candidates are held
// back until then. A batch part that also holds a changed or deleted file
// stays too where the table format masks that file's rows (see masks);
// otherwise it is rewritten: a worker copies its unchanged files' rows from
// it into a new part (TaskFile.From). Either way they are not fetched
// again.
type reusePlan struct {
	// mu guards seen and count: pages are recorded pagesInFlight at once.
	mu    sync.Mutex
	prev  PreviousLoad
	byID  map[objectVersion]PreviousFile // where each object version's rows are
	seen  map[string][]messages.Source
	count int // candidates seen
}

// planReuse decides whether the table's committed load's parts may be
// reused: the same whole fingerprint (see Fingerprint).
func (tc *tableRun) planReuse(ctx context.Context) *reusePlan {
	prev := tc.previous(ctx)
	if prev == nil {
		return nil
	}
	if fp := tc.c.Fingerprint(tc.idx, tc.rec); prev.Fingerprint != fp {
		tc.log.Info("the table's schema changed since its committed load; loading every file", "committed_load", prev.LoadID)
		return nil
	}
	p := &reusePlan{prev: *prev, byID: make(map[objectVersion]PreviousFile, len(prev.Files)), seen: map[string][]messages.Source{}}
	for _, f := range prev.Files {
		p.byID[versionOf(f.Source)] = f
	}
	return p
}

// hold takes src if it is a candidate for reuse, to be decided at the end
// of the listing.
func (p *reusePlan) hold(src messages.Source) bool {
	if p == nil {
		return false
	}
	f, ok := p.byID[versionOf(src)]
	if !ok {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[f.Part] = append(p.seen[f.Part], src)
	p.count++
	return true
}

// reuseRecords makes the records of the held files once the listing is done:
// loaded, in their reused part, for parts whose every file was listed
// again unchanged (or masked); listed, to be copied from their part by a
// worker (FileRecord.From), for the others. reused counts both, copied the
// second.
func (c *Coordinator) reuseRecords(ctx context.Context, load string, t Table, schema []byte, p *reusePlan, log *slog.Logger) (recs []messages.FileRecord, reused, copied int) {
	if p == nil {
		return nil, 0, 0
	}
	now := time.Now().UTC()
	// One record a held file (but for a split file's ranges): grown record
	// by record, 10,000 records of ~400 bytes were copied ~14 times over.
	recs = make([]messages.FileRecord, 0, p.count)
	parts := make([]string, 0, len(p.seen))
	for part := range p.seen {
		parts = append(parts, part)
	}
	sort.Strings(parts)
	rewritten, masked := 0, 0
	for _, part := range parts {
		srcs := p.seen[part]
		prev := p.byID[versionOf(srcs[0])]
		if len(srcs) < max(prev.PartFiles, 1) && !p.masks(srcs) {
			// Some of the part's files changed or are gone: its other files'
			// rows are copied from it into a new part.
			for _, src := range srcs {
				for _, rec := range c.newRecords(ctx, load, t.Name, schema, src, now) {
					rec.From = part
					copied++
					recs = append(recs, rec)
				}
			}
			reused += len(srcs)
			rewritten++
			continue
		}
		if len(srcs) < max(prev.PartFiles, 1) {
			masked++
		}
		var path string
		if err := c.retry(ctx, "reusing part "+part, func() (err error) {
			path, err = c.Reuse.ReusePart(ctx, t.Name, load, part)
			return err
		}); err != nil {
			log.Warn("reusing a committed part; loading its files again", "part", part, "err", err)
			for _, src := range srcs {
				recs = append(recs, c.newRecords(ctx, load, t.Name, schema, src, now)...)
			}
			continue
		}
		for _, src := range srcs {
			f := p.byID[versionOf(src)]
			recs = append(recs, messages.FileRecord{LoadID: load, Table: t.Name, Source: src, State: messages.StateLoaded,
				Part: path, PartFiles: len(srcs), Rows: f.Rows, Bytes: f.Bytes, Updated: now})
			reused++
		}
	}
	if rewritten > 0 {
		log.Info("rewriting committed parts that hold changed or deleted files", "parts", rewritten)
	}
	if masked > 0 {
		log.Info("keeping committed parts that hold changed or deleted files, their rows masked", "parts", masked)
	}
	return recs, reused, copied
}

// recordKept records the files a load keeps in committed parts (the loaded
// ones among recs) with one kept record per part, where the state store
// can (KeptStore), and returns the records still to be written one by one.
// A part too big for one record is recorded file by file.
func (c *Coordinator) recordKept(ctx context.Context, recs []messages.FileRecord, log *slog.Logger) ([]messages.FileRecord, error) {
	ks, ok := c.State.(KeptStore)
	if !ok {
		return recs, nil
	}
	loaded := 0
	for _, r := range recs {
		if r.State == messages.StateLoaded {
			loaded++
		}
	}
	if loaded == 0 {
		return recs, nil
	}
	kept, rest := recs, []messages.FileRecord(nil)
	if loaded < len(recs) { // some are copied from rewritten parts
		kept, rest = make([]messages.FileRecord, 0, loaded), make([]messages.FileRecord, 0, len(recs)-loaded)
		for _, r := range recs {
			if r.State == messages.StateLoaded {
				kept = append(kept, r)
			} else {
				rest = append(rest, r)
			}
		}
	}
	err := c.retry(ctx, "recording kept parts", func() error {
		err := ks.CreateKept(ctx, messages.KeepRecords(kept))
		if errors.Is(err, messages.ErrTooLarge) {
			return final{err}
		}
		return err
	})
	switch {
	case errors.Is(err, messages.ErrTooLarge):
		// Records of the files' own win over kept ones, so any kept
		// record written before the refusal is harmless.
		log.Info("a kept part lists too many files for one record; recording its files one by one", "err", err)
		return recs, nil
	case err != nil:
		return nil, err
	}
	return rest, nil
}

// MaskedRowsMax is the share of a committed part's rows that may be masked
// (see PreviousLoad.Masks) before the part is rewritten instead: masking
// saves the rewrite now, but every reader skips the masked rows on every
// scan, so a part never holds more masked rows than live ones.
const MaskedRowsMax = 0.5

// masks says whether the part srcs are the unchanged files of is kept with
// the other files' rows masked, rather than rewritten.
func (p *reusePlan) masks(srcs []messages.Source) bool {
	first := p.byID[versionOf(srcs[0])]
	if !p.prev.Masks || first.PartRows <= 0 {
		return false
	}
	var live int64
	for _, src := range srcs {
		live += p.byID[versionOf(src)].Rows
	}
	return float64(first.PartRows-live) <= MaskedRowsMax*float64(first.PartRows)
}

// ManifestFiles lists the whole (not split) source files of a committed
// load's manifest with their parts, for a Reuser. keep names, for a part
// path and the bytes the manifest records for it, the part as the new load
// refers to it, or says false when its rows may not be reused (the part is
// gone from the table, or is not the one the manifest recorded).
func ManifestFiles(m messages.Manifest, keep func(part string, bytes int64) (string, bool)) []PreviousFile {
	members, split := map[string]int{}, map[string]bool{}
	for _, f := range m.Files {
		members[f.Path]++
		if f.Range != nil {
			split[f.Path] = true
		}
	}
	bytes := map[string]int64{}
	for _, p := range m.Parts {
		bytes[p.Path] = p.Bytes
	}
	var out []PreviousFile
	for _, f := range m.Files {
		if split[f.Path] {
			continue
		}
		part, ok := keep(f.Path, bytes[f.Path])
		if !ok {
			continue
		}
		out = append(out, PreviousFile{Source: f.Source, Part: part, PartFiles: members[f.Path], Rows: f.Rows, Bytes: bytes[f.Path]})
	}
	return out
}

// unkeep turns the kept records standing for any of files (FileRecord.Kept)
// into records of their own, so that each file's record can be reset or
// removed alone.
func (c *Coordinator) unkeep(ctx context.Context, load, table string, files []messages.FileRecord) error {
	done := map[string]bool{}
	for _, f := range files {
		if f.Kept == "" || done[f.Kept] {
			continue
		}
		done[f.Kept] = true
		ks, ok := c.State.(KeptStore)
		if !ok {
			return fmt.Errorf("the state store returned a kept record (%s) but cannot unkeep it", f.Kept)
		}
		if err := c.retry(ctx, "unkeeping the files of part "+f.Part, func() error { return ks.Unkeep(ctx, load, table, f.Kept) }); err != nil {
			return err
		}
	}
	return nil
}
