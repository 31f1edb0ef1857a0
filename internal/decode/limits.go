package decode

import (
	"errors"
	"fmt"
	"math"
)

// RatioFloorBytes is what any compressed file may expand to whatever
// Options.MaxCompressionRatio says: small files compress far better than
// big ones (a 100 KB file of repeated rows can honestly hold 30 MB), and a
// few tens of MB cost a worker nothing.
const RatioFloorBytes = 64 << 20

// The configuration keys a LimitError tells the user to raise.
const (
	knobMaxDecompressed = "limits.max_decompressed_bytes"
	knobMaxRatio        = "limits.max_compression_ratio"
)

// ErrLimit marks a file refused because it decompresses to more than its
// cap (see Options.MaxDecompressedBytes).
var ErrLimit = errors.New("decompressed size limit exceeded")

// LimitError says how a compressed file went over its cap. Decode returns
// it inside a DataError naming the file: the file is refused, permanently.
type LimitError struct {
	Compression Compression
	// Compressed is the file's size, Limit its cap, and Read the bytes
	// decompressed when decoding stopped (a little more than Limit).
	Compressed, Limit, Read int64
	// Knob is the configuration key that set Limit.
	Knob string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s expands past %d bytes (read %d from %d compressed bytes): over the cap %s sets for this file; "+
		"raise %s if the file is genuine", e.Compression, e.Limit, e.Read, e.Compressed, e.Knob, e.Knob)
}

func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// decompressLimit is the cap on one file's decompressed bytes; 0 is none.
type decompressLimit struct {
	max  int64
	knob string
}

// limitFor is the cap on what a file of compressed bytes may expand to:
// min(maxBytes, max(ratio × compressed, RatioFloorBytes)), where 0 turns
// either bound off.
func limitFor(compressed, maxBytes int64, ratio int) decompressLimit {
	var l decompressLimit
	if ratio > 0 {
		byRatio := int64(math.MaxInt64)
		if compressed <= math.MaxInt64/int64(ratio) {
			byRatio = int64(ratio) * max(compressed, 0)
		}
		l = decompressLimit{max: max(byRatio, RatioFloorBytes), knob: knobMaxRatio}
	}
	if maxBytes > 0 && (l.max == 0 || maxBytes <= l.max) {
		l = decompressLimit{max: maxBytes, knob: knobMaxDecompressed}
	}
	return l
}
