package s3store

import (
	"encoding/xml"
	"testing"
)

// TestSplitContentsMatchesEncodingXML: what splitContents reads is what
// encoding/xml (the SDK's decoder) reads, and a page it might read
// differently is left to the SDK.
func TestSplitContentsMatchesEncodingXML(t *testing.T) {
	page := func(keys ...string) []byte {
		b := []byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>true</IsTruncated>`)
		for _, k := range keys {
			b = append(b, "\n  <Contents><Key>"+k+"</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>42</Size><Owner><ID>x</ID></Owner></Contents>"...)
		}
		return append(b, `<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>`...)
	}
	type result struct {
		Contents []struct {
			Key  string
			ETag string
			Size int64
		}
		NextContinuationToken string
	}
	for _, keys := range [][]string{
		{"plain.csv", "t/a b.csv"},
		{"a&amp;b&lt;c&gt;d&quot;e&apos;f.csv", "&#233;t&#xE9;.csv", "日本.csv"},
		{},
	} {
		body := page(keys...)
		objs, rest, ok := splitContents(body)
		if !ok {
			t.Fatalf("%q: not read", keys)
		}
		var want result
		if err := xml.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		if len(objs) != len(want.Contents) {
			t.Fatalf("%q: read %d objects, want %d", keys, len(objs), len(want.Contents))
		}
		for i, o := range objs {
			w := want.Contents[i]
			if o.key != w.Key || o.etag != w.ETag || o.size != w.Size {
				t.Errorf("read %+v, want %+v", o, w)
			}
		}
		var left result
		if err := xml.Unmarshal(rest, &left); err != nil || len(left.Contents) != 0 || left.NextContinuationToken != "tok" {
			t.Errorf("%q: the rest %q reads as %+v, %v", keys, rest, left, err)
		}
	}
	for _, key := range []string{"a&unknown;b", "<![CDATA[x]]>", "a\r\nb", "a&#0;b", "a&b", "\xff"} {
		if _, _, ok := splitContents(page(key)); ok {
			t.Errorf("%q: read, want it left to the SDK", key)
		}
	}
}

// FuzzSplitContents: whatever a key or ETag holds, an object splitContents
// reads is the object encoding/xml reads from the same page; where the two
// could differ, the page is left to the SDK. Longer runs:
// go test -run '^$' -fuzz '^FuzzSplitContents$' -fuzztime 5m ./internal/s3store
func FuzzSplitContents(f *testing.F) {
	for _, seed := range [][2]string{
		{"plain.csv", "&quot;abc&quot;"},
		{"a&amp;b&lt;c&gt;d&quot;e&apos;f.csv", "x"},
		{"&#233;t&#xE9;.csv", "&#x22;e&#34;"},
		{"日本.csv", ""},
		{"a&#1;b", "e"},
		{"a\x01b", "e"},
		{"a&#xFFFE;b", "e"},
		{"a&#13;b", "e"},
		{"]]>", "e"},
	} {
		f.Add(seed[0], seed[1])
	}
	type result struct {
		Contents []struct {
			Key  string
			ETag string
			Size int64
		}
	}
	f.Fuzz(func(t *testing.T, key, etag string) {
		body := []byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name>` +
			"<Contents><Key>" + key + "</Key><ETag>" + etag + "</ETag><Size>7</Size></Contents></ListBucketResult>")
		objs, _, ok := splitContents(body)
		if !ok {
			return // left to the SDK
		}
		var want result
		if err := xml.Unmarshal(body, &want); err != nil {
			t.Fatalf("read %+v from a page encoding/xml refuses: %v", objs, err)
		}
		if len(objs) != len(want.Contents) {
			t.Fatalf("read %d objects, encoding/xml %d", len(objs), len(want.Contents))
		}
		for i, o := range objs {
			if w := want.Contents[i]; o.key != w.Key || o.etag != w.ETag || o.size != w.Size {
				t.Fatalf("read %+v, encoding/xml %+v", o, w)
			}
		}
	})
}
