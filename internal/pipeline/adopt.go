package pipeline

import (
	"context"
	"strconv"

	"github.com/s3load/s3load/internal/partfiles"
	"github.com/s3load/s3load/internal/partstats"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// fileID names a file of a task, or a range of it, in a part's footer.
func fileID(f messages.TaskFile) string {
	id := f.Source.Identity()
	if f.Range != nil {
		id += "#" + strconv.Itoa(f.Range.Index) + "/" + strconv.Itoa(f.Range.Count) + "@" + strconv.FormatInt(f.Range.Start, 10)
	}
	return id
}

// describe is the footer entry of the files at loaded.
func (b *partLoad) describe(loaded []int) string {
	files := make([]partfiles.File, len(loaded))
	for j, i := range loaded {
		files[j] = partfiles.File{ID: fileID(b.task.Files[i]), Rows: b.outs[i].Rows}
	}
	return partfiles.Encode(files)
}

// adopt takes over a part an earlier attempt wrote for exactly this task's
// files (its record lost with JetStream state, or a resumed load) and
// reports them loaded without reading the source again. A part it cannot
// vouch for is left alone: the files are loaded as usual, and rewrite it.
func (b *partLoad) adopt(ctx context.Context) bool {
	if b.rejects != nil {
		// The part does not say which rows it skipped, nor where they
		// went: load the files again, rejects and all.
		return false
	}
	files := b.task.Files
	name := messages.PartName(files[0].Source, files[0].Range)
	if len(files) > 1 {
		srcs := make([]messages.Source, len(files))
		for i, f := range files {
			srcs[i] = f.Source
		}
		name = messages.BatchPartName(srcs)
	}
	info, err := b.p.target.ReadPart(ctx, b.task.Table, b.task.LoadID, name)
	if err != nil {
		return false
	}
	rows := make([]int64, len(files))
	if desc, ok := info.Metadata[partfiles.FooterKey]; ok {
		listed, err := partfiles.Decode(desc, info.Rows)
		if err != nil || len(listed) != len(files) {
			return false
		}
		for i, f := range files {
			if listed[i].ID != fileID(f) {
				return false
			}
			rows[i] = listed[i].Rows
		}
	} else {
		// A Parquet file copied whole carries its writer's footer: it is
		// this file if it has this file's size.
		if len(files) != 1 || files[0].Range != nil || info.Size != files[0].Source.Size {
			return false
		}
		rows[0] = info.Rows
	}
	var stats *messages.PartStats
	if b.conv != nil { // a table format lists the part with its stats
		st, err := partstats.FromFooter(info.Footer, info.Size)
		if err != nil {
			return false
		}
		stats = &st
	}
	path := b.p.target.PartPath(b.task.LoadID, name)
	for i := range files {
		b.outs[i] = worker.Outcome{Kind: worker.Loaded, Part: path, PartFiles: len(files), Rows: rows[i], Bytes: info.Size, Stats: stats}
	}
	b.progress.AddRows(info.Rows)
	return true
}
