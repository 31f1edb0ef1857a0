package testenv

import (
	"bufio"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// AccessEntry is one request of the server's access log.
type AccessEntry struct {
	Time      time.Time
	Bucket    string // "" for requests on the service (ListBuckets)
	Key       string // "" for bucket-level requests
	Operation string // S3 API name: ListObjectsV2, GetObject, PutObject...
	// Status is the HTTP status versitygw logged. It logs every success as
	// 200 (a ranged GetObject's 206, a DeleteObject's 204 included).
	Status     int
	ErrorCode  string // S3 error code, "" on success
	Requester  string // access key id, "" if unauthenticated
	RequestURI string // as sent, still escaped
	Raw        string // the whole line
}

// versitygw (s3log.FileLogger) writes AWS's server access log layout with
// fields joined by single spaces and nothing quoted:
//
//	owner bucket [02/January/2006:15:04:05 -0700] ip requester request-id
//	operation key request-uri status error-code bytes-sent object-size
//	total-ms turnaround-ms referer user-agent version-id host-id SigV4
//	cipher auth-type host-header tls-version arn acl-required
//
// The key is logged unescaped and the user agent and ARN hold spaces, so
// the line cannot be split on spaces. After the seven fixed leading fields,
// the key runs up to the escaped request URI, which is followed by the
// status, an error code and four numbers; where a key itself looks like
// that, the split whose URI decodes to the logged key wins.
var (
	accessHead  = regexp.MustCompile(`^(\S+) (\S+) \[([^\]]*)\] (\S+) (\S+) (\S+) (\S+) (.*)$`)
	accessAfter = regexp.MustCompile(`^ (/\S*|-) (\d{3}) (\S+) -?\d+ -?\d+ -?\d+ -?\d+( |$)`)
)

const accessTimeLayout = "02/January/2006:15:04:05 -0700"

// AccessLog returns every request logged so far, in order. versitygw
// writes a request's line before sending its response, so every request
// the test has seen answered is there. A line that does not parse fails
// the test: quietly skipping it would let "no writes" assertions pass on
// a log they cannot read. The start-up readiness probe is the first entry:
// an unauthenticated ListBuckets, with no bucket, answered 403.
func (s *S3Server) AccessLog(t testing.TB) []AccessEntry {
	t.Helper()
	f, err := os.Open(s.AccessLogPath)
	if err != nil {
		t.Fatalf("reading access log: %v", err)
	}
	defer f.Close()
	var entries []AccessEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "log starts ") {
			continue // written once when the log is opened
		}
		e, ok := ParseAccessLine(line)
		if !ok {
			t.Fatalf("access log %s line %d does not parse: %q", s.AccessLogPath, n, line)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading access log: %v", err)
	}
	return entries
}

// ParseAccessLine parses one line of versitygw's access log.
func ParseAccessLine(line string) (AccessEntry, bool) {
	m := accessHead.FindStringSubmatch(line)
	if m == nil {
		return AccessEntry{}, false
	}
	e := AccessEntry{
		Bucket:    dash(m[2]),
		Requester: dash(m[5]),
		Operation: operationName(m[7]),
		Raw:       line,
	}
	if ts, err := time.Parse(accessTimeLayout, m[3]); err == nil {
		e.Time = ts
	}
	rest := m[8]
	found := false
	for i := 0; i < len(rest); i++ {
		if rest[i] != ' ' {
			continue
		}
		after := accessAfter.FindStringSubmatch(rest[i:])
		if after == nil {
			continue
		}
		status, _ := strconv.Atoi(after[2])
		logged := dash(rest[:i])
		key, ok := keyFromURI(after[1], e.Bucket)
		if !ok {
			key = logged
		}
		// A URI naming the logged key settles it; a service-level request
		// (no bucket) has no key to disagree about.
		settled := ok && key == logged || e.Bucket == ""
		if !found || settled {
			e.Key, e.RequestURI, e.Status, e.ErrorCode = key, after[1], status, dash(after[3])
			found = true
		}
		if settled {
			break
		}
	}
	return e, found
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// keyFromURI recovers the object key of a path-style request URI,
// /bucket/key?query, which unlike the logged key is unambiguous.
func keyFromURI(uri, bucket string) (string, bool) {
	if bucket == "" {
		return "", false
	}
	path, _, _ := strings.Cut(uri, "?")
	path, err := url.PathUnescape(path)
	if err != nil {
		return "", false
	}
	if path == "/"+bucket || path == "/"+bucket+"/" {
		return "", true
	}
	key, ok := strings.CutPrefix(path, "/"+bucket+"/")
	return key, ok
}

// operationName turns versitygw's action names (s3_GetObject) into S3 API
// names (GetObject).
func operationName(action string) string {
	switch action {
	case "s3_ListAllMyBuckets":
		return "ListBuckets"
	case "ActionUnDetected", "-":
		// Rejected before routing, e.g. by authentication.
		return "Unknown"
	}
	if name, ok := strings.CutPrefix(action, "s3_"); ok {
		return name
	}
	return action
}
