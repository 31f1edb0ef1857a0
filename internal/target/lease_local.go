package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// localLeases keeps a table's lease as generation files in
// <root>/.s3load/<table>/_lease/: the highest generation is the lease. A
// change creates the next generation with O_EXCL, which only one writer
// can do, then removes the older ones. rename(2) cannot compare before it
// replaces, so a single lease file could not be renewed or taken over
// safely against a racing writer; an exclusive create can.
type localLeases struct{ l *localFS }

const leaseDirName = "_lease"

func (s localLeases) dir(table string) string {
	return filepath.Join(s.l.tableDir(table), leaseDirName)
}

func genName(gen uint64) string { return fmt.Sprintf("%020d.json", gen) }

// generations returns the highest generation of the table's lease (0:
// none) and all of them.
func (s localLeases) generations(table string) (top uint64, all []uint64, err error) {
	entries, err := os.ReadDir(s.dir(table))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, localErr("reading the lease of "+table, s.dir(table), err)
	}
	for _, e := range entries {
		num, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		gen, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			continue
		}
		all = append(all, gen)
		top = max(top, gen)
	}
	return top, all, nil
}

// maxLeaseReads bounds how often read chases a generation that a newer
// one's writer removed as it was being read.
const maxLeaseReads = 10

func (s localLeases) read(_ context.Context, table string) (*leaseRecord, leaseVersion, error) {
	for range maxLeaseReads {
		top, _, err := s.generations(table)
		if err != nil || top == 0 {
			return nil, leaseVersion{}, err
		}
		path := filepath.Join(s.dir(table), genName(top))
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, leaseVersion{}, localErr("reading the lease of "+table, s.dir(table), err)
		}
		var rec leaseRecord
		if json.Unmarshal(data, &rec) != nil || rec.Token == "" {
			// Created but not yet written (or its writer died there):
			// judge it by the file's time, so a dead writer's goes stale.
			st, err := os.Stat(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, leaseVersion{}, localErr("reading the lease of "+table, s.dir(table), err)
			}
			rec = leaseRecord{Holder: "a load whose lease file " + path + " is being written", Renewed: st.ModTime()}
		}
		return &rec, leaseVersion{gen: top}, nil
	}
	return nil, leaseVersion{}, fmt.Errorf("reading the lease of %s: it changed at each of %d reads", table, maxLeaseReads)
}

func (s localLeases) swap(_ context.Context, table string, prev leaseVersion, rec leaseRecord) (leaseVersion, error) {
	dir := s.dir(table)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return leaseVersion{}, localErr("writing the lease of "+table, dir, err)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return leaseVersion{}, fmt.Errorf("encoding the lease of %s: %w", table, err)
	}
	gen := prev.gen + 1
	path := filepath.Join(dir, genName(gen))
	f, err := s.l.createFile(path)
	if errors.Is(err, fs.ErrExist) {
		return leaseVersion{}, errLeaseRace
	}
	if err != nil {
		return leaseVersion{}, localErr("writing the lease of "+table, dir, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return leaseVersion{}, localErr("writing the lease of "+table, dir, err)
	}
	// The generation may have existed and been removed by a newer one's
	// writer; then this write came too late. Only the highest counts.
	top, all, err := s.generations(table)
	if err != nil {
		return leaseVersion{}, err
	}
	if top != gen {
		_ = os.Remove(path)
		return leaseVersion{}, errLeaseRace
	}
	if err := syncDir(dir); err != nil {
		return leaseVersion{}, err
	}
	for _, g := range all {
		if g < gen {
			_ = os.Remove(filepath.Join(dir, genName(g)))
		}
	}
	return leaseVersion{gen: gen}, nil
}
