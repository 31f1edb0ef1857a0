package lake

import (
	"bytes"
	"context"
	"encoding/binary"
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

// A load that keeps committed batch parts whose other files changed or are
// gone (coordinator.PreviousLoad.Masks) hides those files' rows with Iceberg
// position deletes: the rows stay in the parts, and every reader skips
// them. The table holds one position delete file of s3load's, listing
// every row of every kept part that no load since keeps; a load that masks
// more writes a new one, for all its parts, and removes the old. One file,
// not one a part: a repeated load of 10,000 small files with 100 parts to
// mask spent ~100 ms of CPU creating and syncing 100 files, and every
// reader opens every delete file of the table.

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

// posDeletePathID and posDeletePathName are the field id and name of a
// position delete file's file_path.
var (
	posDeletePathID   = iceberg.PositionalDeleteSchema.Fields()[0].ID
	posDeletePathName = table.PositionalDeleteArrowSchema.Field(0).Name
)

// masksInFlight bounds the parts' footers a commit reads at once.
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

// deleteTarget is the data file a position delete file masks rows of, if
// it is one: from its referenced data file, or bounds of one file_path (as
// every v2 writer lists them, and s3load's older masks, one a part).
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

// partMask is a kept part's rows to mask.
type partMask struct {
	part      string // its path
	masked    int64  // rows, from the records
	kept      map[string]bool
	positions []int64 // read from its footer
}

// planMasks decides the position delete files of a load that reuses parts:
// if the rows the table masks now, by data file, are not those its kept
// parts' records leave out, one new delete file masks all of those, and
// every delete file there now goes (with them the masks of parts the load
// drops). live is every live file of the current snapshot, data and
// deletes; keep holds the kept parts' paths.
func (c *Committer) planMasks(ctx context.Context, tbl *table.Table, req coordinator.CommitRequest, reused []messages.FileRecord, live []iceberg.DataFile, keep map[string]bool) (maskPlan, error) {
	var plan maskPlan
	loc := strings.TrimRight(tbl.Location(), "/") + "/"
	data := map[string]iceberg.DataFile{}
	var deletes []iceberg.DataFile
	for _, f := range live {
		switch f.ContentType() {
		case iceberg.EntryContentData:
			data[f.FilePath()] = f
		case iceberg.EntryContentPosDeletes:
			deletes = append(deletes, f)
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
	slices.Sort(paths) // the spec sorts a delete file's rows by path
	var problems []string
	var need []partMask
	for _, p := range paths {
		switch masked := data[p].Count() - liveRows[p]; {
		case masked == 0:
		case masked < 0 || !canMask(tbl):
			problems = append(problems, strings.TrimPrefix(p, loc))
		default:
			need = append(need, partMask{part: p, masked: masked, kept: kept[p]})
		}
	}
	if len(problems) > 0 {
		return maskPlan{}, &coordinator.PartsError{Parts: problems,
			Err: fmt.Errorf("%d reused parts hold rows their files' records do not account for", len(problems))}
	}
	if len(need) == 0 && len(deletes) == 0 {
		return plan, nil
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		return maskPlan{}, fmt.Errorf("opening the table's files: %w", err)
	}
	have, err := maskedNow(ctx, fsys, deletes)
	if err != nil {
		return maskPlan{}, err
	}
	for _, m := range need {
		if have[m.part] != m.masked {
			plan.parts++ // masked anew
		}
	}
	if plan.parts == 0 && len(have) == len(need) {
		return plan, nil // masked as it should be: no part anew, none dropped
	}
	plan.remove = deletes
	if len(need) == 0 {
		return plan, nil
	}
	if err := readMasked(fsys, need, loc); err != nil {
		return maskPlan{}, err
	}
	f, err := writeMasks(fsys, tbl, req.LoadID, need)
	if err != nil {
		return maskPlan{}, err
	}
	plan.add = []iceberg.DataFile{f}
	return plan, nil
}

// maskedNow counts the rows deletes mask, by data file: from the metadata
// of a file of one target, else read from the file.
func maskedNow(ctx context.Context, fsys icebergio.IO, deletes []iceberg.DataFile) (map[string]int64, error) {
	have := map[string]int64{}
	for _, f := range deletes {
		if target, ok := deleteTarget(f); ok {
			have[target] += f.Count()
			continue
		}
		if err := countMasked(ctx, fsys, f.FilePath(), have); err != nil {
			return nil, fmt.Errorf("reading position delete file %s: %w", f.FilePath(), err)
		}
	}
	return have, nil
}

// countMasked adds the rows a position delete file lists to have, by path.
func countMasked(ctx context.Context, fsys icebergio.IO, path string, have map[string]int64) error {
	r, err := fsys.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	defer pf.Close()
	col := -1
	for i := range pf.MetaData().Schema.NumColumns() {
		if pf.MetaData().Schema.Column(i).ColumnPath().String() == posDeletePathName {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("no %s column", posDeletePathName)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	rgs := make([]int, pf.NumRowGroups())
	for i := range rgs {
		rgs[i] = i
	}
	tbl, err := fr.ReadRowGroups(ctx, []int{col}, rgs)
	if err != nil {
		return fmt.Errorf("reading %s: %w", posDeletePathName, err)
	}
	defer tbl.Release()
	for _, chunk := range tbl.Column(0).Data().Chunks() {
		paths, ok := chunk.(*array.String)
		if !ok {
			return fmt.Errorf("%s is %s, not a string", posDeletePathName, chunk.DataType())
		}
		for i := range paths.Len() {
			have[paths.Value(i)]++
		}
	}
	return nil
}

// readMasked reads each part's footer list of files for the positions of
// its rows to mask, side by side: each is a small read, most of whose time
// is an object store's latency.
func readMasked(fsys icebergio.IO, need []partMask, loc string) error {
	var g errgroup.Group
	g.SetLimit(masksInFlight)
	for i := range need {
		m := &need[i]
		g.Go(func() error {
			positions, err := maskedRows(fsys, m.part, m.kept)
			if err == nil && int64(len(positions)) != m.masked {
				err = fmt.Errorf("part %s: its footer lists %d rows of files not kept, its records %d", m.part, len(positions), m.masked)
			}
			if err != nil {
				return &coordinator.PartsError{Parts: []string{strings.TrimPrefix(m.part, loc)}, Err: err}
			}
			m.positions = positions
			return nil
		})
	}
	return g.Wait()
}

// writeMasks writes the load's position delete file of need (parts in
// path order, each with its positions ascending) and describes it.
func writeMasks(fsys icebergio.IO, tbl *table.Table, load string, need []partMask) (iceberg.DataFile, error) {
	data, err := encodeMasks(need)
	if err != nil {
		return nil, fmt.Errorf("masking rows of %d parts: %w", len(need), err)
	}
	// One name a load: a commit tried again writes the same file.
	path := strings.TrimRight(tbl.Location(), "/") + "/data/" + load + "/deletes.parquet"
	wfs, ok := fsys.(icebergio.WriteFileIO)
	if !ok {
		return nil, fmt.Errorf("the table's file system cannot write")
	}
	if err := wfs.WriteFile(path, data); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	var rows int64
	lo, hi := need[0].positions[0], need[0].positions[0]
	for _, m := range need {
		rows += int64(len(m.positions))
		lo, hi = min(lo, m.positions[0]), max(hi, m.positions[len(m.positions)-1])
	}
	b, err := iceberg.NewDataFileBuilder(tbl.Spec(), iceberg.EntryContentPosDeletes, path, iceberg.ParquetFile,
		nil, nil, nil, rows, int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("describing %s: %w", path, err)
	}
	posID := iceberg.PositionalDeleteSchema.Fields()[1].ID
	// Readers skip the file for data files outside its paths' bounds.
	// Bounds of a long are 8 bytes, little-endian.
	b.LowerBoundValues(map[int][]byte{posDeletePathID: []byte(need[0].part), posID: binary.LittleEndian.AppendUint64(nil, uint64(lo))}).
		UpperBoundValues(map[int][]byte{posDeletePathID: []byte(need[len(need)-1].part), posID: binary.LittleEndian.AppendUint64(nil, uint64(hi))}).
		ValueCounts(map[int]int64{posDeletePathID: rows, posID: rows}).
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

// encodeMasks is a position delete file's bytes: each part's rows at its
// positions, parts in path order and positions ascending, as the spec
// sorts them.
func encodeMasks(need []partMask) ([]byte, error) {
	mem := memory.DefaultAllocator
	b := array.NewRecordBuilder(mem, table.PositionalDeleteArrowSchema)
	defer b.Release()
	paths := b.Field(0).(*array.StringBuilder)
	pos := b.Field(1).(*array.Int64Builder)
	// Sized once: grown row by row, the path column's copies were most of
	// a mask's time.
	rows, pathBytes := 0, 0
	for _, m := range need {
		rows += len(m.positions)
		pathBytes += len(m.positions) * len(m.part)
	}
	paths.Reserve(rows)
	paths.ReserveData(pathBytes)
	pos.Reserve(rows)
	for _, m := range need {
		for _, p := range m.positions {
			paths.Append(m.part)
			pos.Append(p)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	// The paths repeat: a dictionary of the parts; the positions, mostly
	// distinct, would only fill a dictionary.
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(false),
		parquet.WithDictionaryFor(posDeletePathName, true))
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
