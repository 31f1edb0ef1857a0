package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"golang.org/x/sync/errgroup"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/partfiles"
	_ "github.com/s3load/s3load/internal/zstdpages" // the zstd codec of the masks' pages
	"github.com/s3load/s3load/messages"
)

// A load that keeps a committed batch part whose other files changed or
// are gone (coordinator.PreviousLoad.Masks) hides those files' rows with an
// Iceberg position delete file: the rows stay in the part, and every
// reader skips them. Each kept part has at most one such file, listing
// every row of it that no load since keeps; a load that masks more of the
// part writes a new one and removes the old.

// Snapshot summary properties of masks.
const (
	// MaskedPartsProperty counts the parts whose rows the load's snapshot
	// masks anew.
	MaskedPartsProperty = "s3load.masked-parts"
	// MaskingLoadProperty names the load on the snapshot that adds its
	// masks, just before the load's own snapshot (which alone carries
	// LoadIDProperty, so history and idempotence see one snapshot a load).
	MaskingLoadProperty = "s3load.masking-load"
)

// posDeletePathID is the field id of a position delete file's file_path.
var posDeletePathID = iceberg.PositionalDeleteSchema.Fields()[0].ID

// masksInFlight bounds the masks a commit writes at once.
const masksInFlight = 8

// masksFormatVersion is the one format version whose position deletes
// s3load writes: v1 has none, v3 wants deletion vectors instead.
const masksFormatVersion = 2

// canMask says whether the table takes s3load's position delete files.
func canMask(tbl *table.Table) bool { return tbl.Metadata().Version() == masksFormatVersion }

// maskPlan is what a commit changes in the table's position delete files.
type maskPlan struct {
	add    []iceberg.DataFile // written for this load
	remove []iceberg.DataFile // superseded, or of parts the load drops
	parts  int                // parts masked anew
}

// deleteTarget is the data file a position delete file of s3load's masks:
// its one file_path, from the bounds (as every v2 writer lists them).
func deleteTarget(f iceberg.DataFile) (string, bool) {
	if f.ContentType() != iceberg.EntryContentPosDeletes {
		return "", false
	}
	if ref := f.ReferencedDataFile(); ref != nil {
		return *ref, true
	}
	lo, hi := f.LowerBoundValues()[posDeletePathID], f.UpperBoundValues()[posDeletePathID]
	if lo == nil || !bytes.Equal(lo, hi) {
		return "", false
	}
	return string(lo), true
}

// planMasks decides the position delete files of a load that reuses parts:
// for each kept part holding rows of files the load does not keep, one
// delete file of those rows (the one there already, if it masks exactly
// them); delete files of parts the load drops go with them. live is every
// live file of the current snapshot, data and deletes; keep holds the
// kept parts' paths.
func (c *Committer) planMasks(ctx context.Context, tbl *table.Table, req coordinator.CommitRequest, reused []messages.FileRecord, live []iceberg.DataFile, keep map[string]bool) (maskPlan, error) {
	var plan maskPlan
	loc := strings.TrimRight(tbl.Location(), "/") + "/"
	data := map[string]iceberg.DataFile{}
	masks := map[string][]iceberg.DataFile{} // data file path -> its delete files
	for _, f := range live {
		switch f.ContentType() {
		case iceberg.EntryContentData:
			data[f.FilePath()] = f
		case iceberg.EntryContentPosDeletes:
			if target, ok := deleteTarget(f); ok {
				masks[target] = append(masks[target], f)
			}
		}
	}
	for target, fs := range masks {
		if !keep[target] {
			plan.remove = append(plan.remove, fs...) // its part leaves the table
		}
	}
	kept := map[string]map[string]bool{} // part path -> identities kept
	liveRows := map[string]int64{}
	for _, f := range reused {
		p := loc + f.Part
		if kept[p] == nil {
			kept[p] = map[string]bool{}
		}
		kept[p][f.Source.Identity()] = true
		liveRows[p] += f.Rows
	}
	paths := make([]string, 0, len(kept))
	for p := range kept {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	type mask struct {
		part   string
		masked int64
	}
	var problems []string
	var todo []mask
	for _, p := range paths {
		masked := data[p].Count() - liveRows[p]
		var already int64
		for _, m := range masks[p] {
			already += m.Count()
		}
		switch {
		case masked == already: // masked as it should be (or not at all)
		case masked < 0 || !canMask(tbl):
			problems = append(problems, strings.TrimPrefix(p, loc))
		default:
			todo = append(todo, mask{p, masked})
		}
	}
	if len(problems) > 0 {
		return maskPlan{}, &coordinator.PartsError{Parts: problems,
			Err: fmt.Errorf("%d reused parts hold rows their files' records do not account for", len(problems))}
	}
	if len(todo) == 0 {
		return plan, nil
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		return maskPlan{}, fmt.Errorf("opening the table's files: %w", err)
	}
	// Each mask is a footer read and a small write: side by side, as an
	// object store's latency (or a disk's sync) is most of their time.
	written := make([]iceberg.DataFile, len(todo))
	var g errgroup.Group
	g.SetLimit(masksInFlight)
	for i, m := range todo {
		g.Go(func() error {
			f, err := writeMask(fsys, tbl, req.LoadID, data[m.part], kept[m.part], m.masked)
			if err != nil {
				return &coordinator.PartsError{Parts: []string{strings.TrimPrefix(m.part, loc)}, Err: err}
			}
			written[i] = f
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return maskPlan{}, err
	}
	for i, m := range todo {
		plan.add = append(plan.add, written[i])
		plan.remove = append(plan.remove, masks[m.part]...)
	}
	plan.parts = len(todo)
	return plan, nil
}

// writeMask writes the position delete file masking every row of part df
// that is not a kept file's, which must come to masked rows.
func writeMask(fsys icebergio.IO, tbl *table.Table, load string, df iceberg.DataFile, kept map[string]bool, masked int64) (iceberg.DataFile, error) {
	positions, err := maskedRows(fsys, df.FilePath(), kept)
	if err != nil {
		return nil, err
	}
	if int64(len(positions)) != masked {
		return nil, fmt.Errorf("part %s: its footer lists %d rows of files not kept, its records %d", df.FilePath(), len(positions), masked)
	}
	data, err := encodeMask(df.FilePath(), positions)
	if err != nil {
		return nil, fmt.Errorf("masking rows of %s: %w", df.FilePath(), err)
	}
	sum := sha256.Sum256([]byte(df.FilePath()))
	path := strings.TrimRight(tbl.Location(), "/") + "/data/" + load + "/deletes-" + hex.EncodeToString(sum[:8]) + ".parquet"
	wfs, ok := fsys.(icebergio.WriteFileIO)
	if !ok {
		return nil, fmt.Errorf("the table's file system cannot write")
	}
	if err := wfs.WriteFile(path, data); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	b, err := iceberg.NewDataFileBuilder(tbl.Spec(), iceberg.EntryContentPosDeletes, path, iceberg.ParquetFile,
		nil, nil, nil, int64(len(positions)), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("describing %s: %w", path, err)
	}
	posID := iceberg.PositionalDeleteSchema.Fields()[1].ID
	// Bounds of a long are 8 bytes, little-endian.
	lo := binary.LittleEndian.AppendUint64(nil, uint64(positions[0]))
	hi := binary.LittleEndian.AppendUint64(nil, uint64(positions[len(positions)-1]))
	b.LowerBoundValues(map[int][]byte{posDeletePathID: []byte(df.FilePath()), posID: lo}).
		UpperBoundValues(map[int][]byte{posDeletePathID: []byte(df.FilePath()), posID: hi}).
		ValueCounts(map[int]int64{posDeletePathID: int64(len(positions)), posID: int64(len(positions))}).
		NullValueCounts(map[int]int64{posDeletePathID: 0, posID: 0})
	return b.Build(), nil
}

// maskedRows reads part's footer list of files and returns, in order, the
// positions of the rows of files not in kept.
func maskedRows(fsys icebergio.IO, part string, kept map[string]bool) ([]int64, error) {
	f, err := fsys.Open(part)
	if err != nil {
		return nil, fmt.Errorf("opening part %s: %w", part, err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading part %s: footer: %w", part, err)
	}
	defer pf.Close()
	listed, err := partfiles.Read(pf.MetaData())
	if err != nil {
		return nil, fmt.Errorf("part %s: %w", part, err)
	}
	var out []int64
	var pos int64
	found := 0
	for _, lf := range listed {
		if kept[lf.ID] {
			found++
		} else {
			for r := range lf.Rows {
				out = append(out, pos+r)
			}
		}
		pos += lf.Rows
	}
	if found != len(kept) {
		return nil, fmt.Errorf("part %s holds %d of the %d files kept in it", part, found, len(kept))
	}
	return out, nil
}

// encodeMask is a position delete file's bytes: dataFile's rows at
// positions (ascending), as the spec sorts them.
func encodeMask(dataFile string, positions []int64) ([]byte, error) {
	mem := memory.DefaultAllocator
	b := array.NewRecordBuilder(mem, table.PositionalDeleteArrowSchema)
	defer b.Release()
	paths := b.Field(0).(*array.StringBuilder)
	pos := b.Field(1).(*array.Int64Builder)
	// Sized once: grown row by row, the path column's copies were most of
	// a mask's time.
	paths.Reserve(len(positions))
	paths.ReserveData(len(positions) * len(dataFile))
	pos.Reserve(len(positions))
	for _, p := range positions {
		paths.Append(dataFile)
		pos.Append(p)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	// The one path is a dictionary of one entry; the positions, all
	// distinct, would only fill a dictionary.
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(false),
		parquet.WithDictionaryFor(table.PositionalDeleteArrowSchema.Field(0).Name, true))
	w, err := pqarrow.NewFileWriter(table.PositionalDeleteArrowSchema, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, err
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
