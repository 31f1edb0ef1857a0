package target

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
)

var (
	// ErrNoSpace: the target's disk (or a worker's temporary directory) is
	// full, or the user's quota there is spent. Retrying soon will not help;
	// freeing space or moving the target will.
	ErrNoSpace = errors.New("no space left")
	// ErrNotWritable: the target refuses writes (a read-only mount, missing
	// permissions, a denied S3 key). Retrying cannot help.
	ErrNotWritable = errors.New("target is not writable")
	// ErrNoConditionalWrites: the S3 store ignores If-None-Match, so two
	// loads of one table could both believe they hold its lease.
	ErrNoConditionalWrites = errors.New("the store does not honour conditional writes")
)

// PartProblem is one part a commit cannot take as recorded. Path is the
// part's path as recorded (messages.FileRecord.Part).
type PartProblem struct {
	Path    string
	Problem string
}

// PartsError lists every recorded part that is missing or differs from its
// record, so the caller can reload exactly the files of those parts.
type PartsError struct {
	Table, Load string
	Parts       []PartProblem
}

// maxListedProblems bounds the message; Parts holds them all.
const maxListedProblems = 5

func (e *PartsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verifying parts of %s (load %s): %d missing or not as recorded: ", e.Table, e.Load, len(e.Parts))
	for i, p := range e.Parts {
		if i == maxListedProblems {
			fmt.Fprintf(&b, "; and %d more", len(e.Parts)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", p.Path, p.Problem)
	}
	b.WriteString(" (reload the files of these parts)")
	return b.String()
}

// localErr classifies a failed file system operation on dir: a full disk
// is ErrNoSpace and a refused write ErrNotWritable, each saying what to do;
// anything else is wrapped as it is.
func localErr(what, dir string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%s: %w in %s (%w): free space there or move the target to a bigger disk; "+
			"parts of failed loads are removed when their table's next load starts", what, ErrNoSpace, dir, err)
	case errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%s: %w: %s refuses writes (%w): check its permissions and that it is not mounted read-only", what, ErrNotWritable, dir, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// storeErr classifies an S3 error the same way: a denied write is
// ErrNotWritable, a spent quota ErrNoSpace.
func storeErr(what, url string, err error) error {
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case code == "QuotaExceeded":
		return fmt.Errorf("%s: %w in %s (%w): free space in the bucket or raise its quota", what, ErrNoSpace, url, err)
	case code == "AccessDenied" || (code == "" && status == http.StatusForbidden):
		return fmt.Errorf("%s: %w: %s denies the write (%w): grant the target's key s3:PutObject and s3:DeleteObject there", what, ErrNotWritable, url, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
