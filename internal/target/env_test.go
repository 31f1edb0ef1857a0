package target

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
)

const dstBucket = "dst"

// kinds are the targets every behaviour is tested on.
var kinds = []string{"local", "s3"}

// s3Env is a versitygw with a target bucket.
type s3Env struct {
	srv *testenv.S3Server
	st  *s3store.Store
}

func newS3Env(t *testing.T) *s3Env {
	t.Helper()
	srv := testenv.Versity(t)
	srv.CreateBucket(t, dstBucket)
	st, err := s3store.New(context.Background(), srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	return &s3Env{srv: srv, st: st}
}

// opener opens more targets on the same place, as other processes would.
type opener func(t *testing.T) *Target

// newTarget starts a target of kind and returns an opener for it.
func newTarget(t *testing.T, kind string) opener {
	t.Helper()
	switch kind {
	case "local":
		root := t.TempDir()
		return func(t *testing.T) *Target {
			tg, err := Open("file://"+root, nil)
			if err != nil {
				t.Fatal(err)
			}
			return tg
		}
	case "s3":
		e := newS3Env(t)
		return func(t *testing.T) *Target {
			tg, err := Open("s3://"+dstBucket+"/tables", e.st)
			if err != nil {
				t.Fatal(err)
			}
			return tg
		}
	}
	t.Fatalf("unknown kind %q", kind)
	return nil
}

// errConnReset is what a lost reply looks like to the client.
var errConnReset = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

// memStore is an in-memory ObjectStore. failPut, when set, is asked about
// every Put: it may store the object and still fail (a lost reply).
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	puts    map[string]int
	failPut func(key string, call int) (store bool, err error)
	// noConditions makes conditional writes unconditional, as some old
	// stores do.
	noConditions bool
	// lostCondReplies makes that many conditional writes that succeed
	// fail afterwards with a lost reply.
	lostCondReplies int
}

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, puts: map[string]int{}}
}

func etagOf(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

func (m *memStore) Put(_ context.Context, bucket, key string, body io.Reader, size int64) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		return fmt.Errorf("body of %d bytes, %d announced", len(data), size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts[key]++
	if m.failPut != nil {
		if store, err := m.failPut(key, m.puts[key]); err != nil {
			if store {
				m.objects[bucket+"/"+key] = data
			}
			return err
		}
	}
	m.objects[bucket+"/"+key] = data
	return nil
}

func (m *memStore) Get(_ context.Context, bucket, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("getting %s: %w", key, fs.ErrNotExist)
	}
	return bytes.Clone(data), nil
}

func (m *memStore) GetWithETag(ctx context.Context, bucket, key string) ([]byte, string, error) {
	data, err := m.Get(ctx, bucket, key)
	return data, etagOf(data), err
}

func (m *memStore) Delete(_ context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, bucket+"/"+key)
	return nil
}

func (m *memStore) ListKeys(_ context.Context, bucket, prefix string) ([]messages.Source, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []messages.Source
	for k, data := range m.objects {
		if key, ok := strings.CutPrefix(k, bucket+"/"); ok && strings.HasPrefix(key, prefix) {
			out = append(out, messages.Source{Bucket: bucket, Key: key, Size: int64(len(data)), ETag: etagOf(data)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *memStore) PutIfAbsent(_ context.Context, bucket, key string, data []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[bucket+"/"+key]; ok && !m.noConditions {
		return "", s3store.ErrPreconditionFailed
	}
	m.objects[bucket+"/"+key] = bytes.Clone(data)
	return m.condReply(data)
}

func (m *memStore) condReply(data []byte) (string, error) {
	if m.lostCondReplies > 0 {
		m.lostCondReplies--
		return "", errConnReset
	}
	return etagOf(data), nil
}

func (m *memStore) PutIfMatch(_ context.Context, bucket, key string, data []byte, etag string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.objects[bucket+"/"+key]; (!ok || etagOf(cur) != etag) && !m.noConditions {
		return "", s3store.ErrPreconditionFailed
	}
	m.objects[bucket+"/"+key] = bytes.Clone(data)
	return m.condReply(data)
}

func (m *memStore) ReadTail(_ context.Context, bucket, key string, n int64) ([]byte, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[bucket+"/"+key]
	if !ok {
		return nil, 0, fmt.Errorf("reading %s: %w", key, fs.ErrNotExist)
	}
	return bytes.Clone(data[max(0, int64(len(data))-n):]), int64(len(data)), nil
}

func (m *memStore) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
