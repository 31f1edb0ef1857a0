package config

import (
	"fmt"
	"path"
	"strings"
)

// Glob matches object keys relative to a table's prefix. Its segments are
// path.Match patterns, and "**" matches any number of segments, as in most
// shells and build tools.
type Glob struct{ segments []string }

// CompileGlob checks pattern and prepares it for matching.
func CompileGlob(pattern string) (Glob, error) {
	segs := strings.Split(pattern, "/")
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return Glob{}, fmt.Errorf("bad pattern %q: %w", pattern, err)
		}
	}
	return Glob{segments: segs}, nil
}

// Match reports whether rel, a key relative to the prefix, matches.
func (g Glob) Match(rel string) bool {
	if g.segments == nil {
		return true
	}
	return matchSegments(g.segments, strings.Split(rel, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
