package decode

import (
	"path"
	"strings"
)

// SkipReason says why a listed key is not a data file, or "" to load it.
// It follows the conventions of Hadoop, Spark and S3 consoles: folder
// markers, empty objects, job markers and checksums, and names Hadoop
// treats as hidden (starting with "_" or ".").
func SkipReason(key string, size int64) string {
	switch {
	case strings.HasSuffix(key, "/"):
		return "folder marker"
	case strings.HasSuffix(key, "_$folder$"):
		return "folder marker"
	}
	dir, base := path.Split(key)
	for _, part := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
		switch part {
		case "_temporary", "_spark_metadata", "_delta_log", ".spark-staging", ".hoodie":
			return "inside " + part
		}
	}
	switch {
	case base == "_SUCCESS":
		return "job success marker"
	case strings.HasPrefix(base, "_started_") || strings.HasPrefix(base, "_committed_"):
		return "job commit marker"
	case strings.HasPrefix(base, "_"):
		return "hidden name (starts with \"_\")"
	case strings.HasPrefix(base, "."):
		return "hidden name (starts with \".\")"
	case strings.HasSuffix(strings.ToLower(base), ".crc"):
		return "checksum file"
	case size == 0:
		return "empty object"
	}
	return ""
}
