package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A ListObjectsV2 page's objects take most of the SDK's XML decoding: a
// token and a string per element, a million keys costing seconds of CPU,
// more than recording them. fastList reads each <Contents> element's Key,
// ETag and Size itself and hands the SDK the rest of the page (its
// truncation and continuation token), so the SDK keeps its signing,
// retries and error handling. A page it cannot read with certainty (an
// entity it does not know, CDATA, a carriage return, bytes not UTF-8) is
// left whole to the SDK.

// listedKey keys the objects fastList read, in the page's result metadata.
type listedKey struct{}

// listedObject is one object fastList read.
type listedObject struct {
	key, etag string
	size      int64
}

// fastList adds fastList's middleware to one ListObjectsV2 call.
func fastList(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		// After the operation's deserializer: it sees the response this
		// middleware returns, with the objects taken out.
		return stack.Deserialize.Insert(middleware.DeserializeMiddlewareFunc("s3load.FastList", readContents), "OperationDeserializer", middleware.After)
	})
}

func readContents(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.StatusCode/100 != 2 || resp.Body == nil {
		return out, md, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return out, md, fmt.Errorf("reading a listing page: %w", err)
	}
	objs, rest, ok := splitContents(body)
	if !ok {
		rest = body
	} else {
		md.Set(listedKey{}, objs)
	}
	resp.Body = io.NopCloser(bytes.NewReader(rest))
	return out, md, nil
}

// splitContents reads the <Contents> elements of a ListObjectsV2 page and
// returns them and the page without them; ok is false if any element is
// not plainly readable.
func splitContents(body []byte) (objs []listedObject, rest []byte, ok bool) {
	const open, end = "<Contents>", "</Contents>"
	rest = make([]byte, 0, 512)
	objs = make([]listedObject, 0, bytes.Count(body, []byte(open)))
	for {
		i := bytes.Index(body, []byte(open))
		if i < 0 {
			rest = append(rest, body...)
			break
		}
		rest = append(rest, body[:i]...)
		body = body[i+len(open):]
		j := bytes.Index(body, []byte(end))
		if j < 0 {
			return nil, nil, false
		}
		elem := body[:j]
		body = body[j+len(end):]
		key, ok1 := elementText(elem, "Key")
		etag, ok2 := elementText(elem, "ETag")
		size, ok3 := elementText(elem, "Size")
		if !ok1 || !ok2 || !ok3 {
			return nil, nil, false
		}
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil {
			return nil, nil, false
		}
		objs = append(objs, listedObject{key: key, etag: etag, size: n})
	}
	if bytes.Contains(rest, []byte("<Contents")) { // an element with attributes
		return nil, nil, false
	}
	return objs, rest, true
}

// elementText is the unescaped text of elem's child element name.
func elementText(elem []byte, name string) (string, bool) {
	i := bytes.Index(elem, []byte("<"+name+">"))
	if i < 0 {
		return "", false
	}
	v := elem[i+len(name)+2:]
	j := bytes.Index(v, []byte("</"+name+">"))
	if j < 0 {
		return "", false
	}
	return unescapeText(v[:j])
}

// unescapeText decodes XML character data as encoding/xml would, or
// reports false where it might differ.
func unescapeText(v []byte) (string, bool) {
	if bytes.ContainsAny(v, "<\r") || bytes.Contains(v, []byte("]]>")) || !xmlText(v) {
		return "", false
	}
	if bytes.IndexByte(v, '&') < 0 {
		return string(v), true
	}
	out := make([]byte, 0, len(v))
	for len(v) > 0 {
		i := bytes.IndexByte(v, '&')
		if i < 0 {
			out = append(out, v...)
			break
		}
		out = append(out, v[:i]...)
		v = v[i+1:]
		j := bytes.IndexByte(v, ';')
		if j < 0 {
			return "", false
		}
		ent := string(v[:j])
		v = v[j+1:]
		switch ent {
		case "amp":
			out = append(out, '&')
		case "lt":
			out = append(out, '<')
		case "gt":
			out = append(out, '>')
		case "quot":
			out = append(out, '"')
		case "apos":
			out = append(out, '\'')
		default:
			r, ok := charRef(ent)
			if !ok {
				return "", false
			}
			out = utf8.AppendRune(out, r)
		}
	}
	return string(out), true
}

// charRef decodes a numeric character reference's name (#65, #x41).
func charRef(ent string) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	base, digits := 10, ent[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || n > unicode.MaxRune || !xmlChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

// xmlText says whether v is UTF-8 of characters XML 1.0 allows, which
// encoding/xml checks too: a control byte in a key fails its page there.
func xmlText(v []byte) bool {
	for len(v) > 0 {
		if c := v[0]; c < utf8.RuneSelf { // ASCII, most keys: no decoding
			if c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D {
				return false
			}
			v = v[1:]
			continue
		}
		r, n := utf8.DecodeRune(v)
		if r == utf8.RuneError && n <= 1 || !xmlChar(r) {
			return false
		}
		v = v[n:]
	}
	return true
}

// xmlChar is XML 1.0's Char production, as encoding/xml applies it.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
