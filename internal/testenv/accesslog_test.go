package testenv

import (
	"testing"
	"time"
)

// Lines as versitygw v1.8.0 wrote them (user agent and host id shortened).
func TestParseAccessLine(t *testing.T) {
	const ua = "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 m/E,e"
	tail := " - " + ua + " - HOSTID= SigV4 - AuthHeader s3.us-east-1.amazonaws.com - "
	tests := []struct {
		name string
		line string
		want AccessEntry
	}{
		{
			name: "unauthenticated probe",
			line: "- - [24/November/2026:16:04:40 +0000] 127.0.0.1 - LN93O3P5H9W6A8GS s3_ListAllMyBuckets - / 403 AccessDenied 0 0 0 0 - Go-http-client/1.1 - HOSTID= SigV4 - AuthHeader s3.us-east-1.amazonaws.com - arn:aws:s3:::/ Yes",
			want: AccessEntry{Operation: "ListBuckets", Status: 403, ErrorCode: "AccessDenied", RequestURI: "/"},
		},
		{
			name: "list",
			line: "AK1 src [24/November/2026:16:04:40 +0000] 127.0.0.1 AK1 P5D4 s3_ListObjectsV2 - /src?list-type=2&prefix= 200 - 781 0 0 0" + tail + "arn:aws:s3:::/src Yes",
			want: AccessEntry{Bucket: "src", Operation: "ListObjectsV2", Status: 200, Requester: "AK1", RequestURI: "/src?list-type=2&prefix="},
		},
		{
			name: "key with spaces and unicode",
			line: "AK1 src [24/November/2026:16:04:40 +0000] 127.0.0.1 AK1 5UJ5 s3_GetObject dir/a b+c ü.csv /src/dir/a%20b%2Bc%20%C3%BC.csv?x-id=GetObject 412 PreconditionFailed 0 0 0 0" + tail + "arn:aws:s3:::/src/dir/a b+c ü.csv Yes",
			want: AccessEntry{Bucket: "src", Key: "dir/a b+c ü.csv", Operation: "GetObject", Status: 412, ErrorCode: "PreconditionFailed",
				Requester: "AK1", RequestURI: "/src/dir/a%20b%2Bc%20%C3%BC.csv?x-id=GetObject"},
		},
		{
			name: "key that looks like the next fields",
			line: "AK1 src [24/November/2026:16:04:40 +0000] 127.0.0.1 AK1 5UJ5 s3_PutObject a /b 200 - 1 2 3 4 c /src/a%20%2Fb%20200%20-%201%202%203%204%20c?x-id=PutObject 200 - 0 3 8 8" + tail + "arn:aws:s3:::/src/a /b 200 - 1 2 3 4 c Yes",
			want: AccessEntry{Bucket: "src", Key: "a /b 200 - 1 2 3 4 c", Operation: "PutObject", Status: 200,
				Requester: "AK1", RequestURI: "/src/a%20%2Fb%20200%20-%201%202%203%204%20c?x-id=PutObject"},
		},
		{
			name: "escaped percent and question mark",
			line: "AK1 src [24/November/2026:16:04:40 +0000] 127.0.0.1 AK1 IC4W s3_PutObject x%2Fy?z /src/x%252Fy%3Fz?x-id=PutObject 200 - 0 5 4 4" + tail + "arn:aws:s3:::/src/x%2Fy?z Yes",
			want: AccessEntry{Bucket: "src", Key: "x%2Fy?z", Operation: "PutObject", Status: 200, Requester: "AK1", RequestURI: "/src/x%252Fy%3Fz?x-id=PutObject"},
		},
		{
			name: "rejected before routing",
			line: "- src [24/November/2026:16:04:40 +0000] 127.0.0.1 - R1 ActionUnDetected k /src/k 403 SignatureDoesNotMatch 0 0 0 0" + tail + "arn:aws:s3:::/src/k Yes",
			want: AccessEntry{Bucket: "src", Key: "k", Operation: "Unknown", Status: 403, ErrorCode: "SignatureDoesNotMatch", RequestURI: "/src/k"},
		},
	}
	wantTime := time.Date(2026, time.November, 24, 16, 4, 40, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseAccessLine(tc.line)
			if !ok {
				t.Fatalf("does not parse: %q", tc.line)
			}
			if !got.Time.Equal(wantTime) {
				t.Errorf("Time = %v, want %v", got.Time, wantTime)
			}
			if got.Raw != tc.line {
				t.Errorf("Raw = %q", got.Raw)
			}
			got.Time, got.Raw = time.Time{}, ""
			if got != tc.want {
				t.Errorf("parsed\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "log starts 2026-11-24", "garbage line", "- - [x] a b c d e f g"} {
		if _, ok := ParseAccessLine(bad); ok {
			t.Errorf("parsed %q", bad)
		}
	}
}
