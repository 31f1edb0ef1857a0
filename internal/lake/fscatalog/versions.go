package fscatalog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

var versionName = regexp.MustCompile(`^v([1-9][0-9]*)\.metadata\.json$`)

// current is a table's latest metadata file, read.
type current struct {
	version  int
	location string
	meta     table.Metadata
}

// latest finds and reads a table's current metadata. A table without any
// metadata file is an error wrapping catalog.ErrNoSuchTable.
func (c *Catalog) latest(ctx context.Context, ident table.Identifier) (current, error) {
	version, data, err := c.fromHint(ctx, ident)
	if err != nil {
		return current{}, err
	}
	hinted := version
	if version == 0 {
		if version, data, err = c.fromListing(ctx, ident); err != nil {
			return current{}, err
		}
	}
	// The hint may lag the files; the first missing version ends the table.
	for {
		next, err := c.fsys.ReadFile(ctx, c.metadataFile(ident, version+1))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return current{}, fmt.Errorf("reading table %s: %w", strings.Join(ident, "."), err)
		}
		version, data = version+1, next
	}
	loc := c.metadataFile(ident, version)
	meta, err := table.ParseMetadataBytes(data)
	if err != nil {
		return current{}, fmt.Errorf("parsing %s: %w", loc, err)
	}
	if version != hinted {
		c.repairHint(ctx, ident, version)
	}
	return current{version: version, location: loc, meta: meta}, nil
}

// repairHint points a lagging (or missing, or garbled) hint at version:
// readers that trust the hint alone, as DuckDB's iceberg_scan does, would
// otherwise see the table as it was before a commit whose writer died
// between creating its metadata file and rewriting the hint, until the
// next commit. Best effort, quietly: a reader without write access (a
// status command) must not warn on every load.
func (c *Catalog) repairHint(ctx context.Context, ident table.Identifier, version int) {
	if err := c.fsys.WriteFile(ctx, c.hintFile(ident), []byte(strconv.Itoa(version))); err != nil {
		c.log.Debug("fscatalog: lagging version hint not repaired", "table", strings.Join(ident, "."), "version", version, "err", err)
		return
	}
	c.log.Info("fscatalog: repaired a lagging version hint", "table", strings.Join(ident, "."), "version", version)
}

// fromHint reads the version the hint names; 0 when there is no usable
// hint or its version is gone, and the listing must tell.
func (c *Catalog) fromHint(ctx context.Context, ident table.Identifier) (int, []byte, error) {
	hint, err := c.fsys.ReadFile(ctx, c.hintFile(ident))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("reading the version hint of %s: %w", strings.Join(ident, "."), err)
	}
	version, err := strconv.Atoi(strings.TrimSpace(string(hint)))
	if err != nil || version < 1 {
		c.log.Warn("fscatalog: ignoring an unreadable version hint", "table", strings.Join(ident, "."), "hint", c.hintFile(ident))
		return 0, nil, nil
	}
	data, err := c.fsys.ReadFile(ctx, c.metadataFile(ident, version))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("reading table %s: %w", strings.Join(ident, "."), err)
	}
	return version, data, nil
}

// fromListing reads the highest vN.metadata.json in metadata/.
func (c *Catalog) fromListing(ctx context.Context, ident table.Identifier) (int, []byte, error) {
	version, err := c.highestListed(ctx, ident)
	if err != nil {
		return 0, nil, err
	}
	if version == 0 {
		return 0, nil, fmt.Errorf("%w: %s", catalog.ErrNoSuchTable, strings.Join(ident, "."))
	}
	data, err := c.fsys.ReadFile(ctx, c.metadataFile(ident, version))
	if err != nil {
		return 0, nil, fmt.Errorf("reading table %s: %w", strings.Join(ident, "."), err)
	}
	return version, data, nil
}

// highestListed is the highest version in the table's metadata/, 0 for
// none.
func (c *Catalog) highestListed(ctx context.Context, ident table.Identifier) (int, error) {
	entries, err := c.fsys.ReadDir(ctx, c.metadataDir(ident))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("listing the metadata of %s: %w", strings.Join(ident, "."), err)
	}
	highest := 0
	for _, e := range entries {
		m := versionName.FindStringSubmatch(e.Name)
		if e.Dir || m == nil {
			continue
		}
		if v, err := strconv.Atoi(m[1]); err == nil && v > highest {
			highest = v
		}
	}
	return highest, nil
}

// writeHint points the hint at version, best effort: the files, not the
// hint, are the truth, and loading probes past a lagging hint.
func (c *Catalog) writeHint(ctx context.Context, ident table.Identifier, version int) {
	// No newline: readers build v<contents>.metadata.json from it.
	if err := c.fsys.WriteFile(ctx, c.hintFile(ident), []byte(strconv.Itoa(version))); err != nil {
		c.log.Warn("fscatalog: version hint not updated", "table", strings.Join(ident, "."), "version", version, "err", err)
	}
}
