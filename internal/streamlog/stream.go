package streamlog

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// Stream capacity modes, as Kinesis names them.
const (
	ModeProvisioned = "PROVISIONED"
	ModeOnDemand    = "ON_DEMAND"
)

// StreamConfig describes a stream to create.
type StreamConfig struct {
	Name           string
	ShardCount     int
	Mode           string // ModeProvisioned (default) or ModeOnDemand
	RetentionHours int    // 24 if zero
	Tags           map[string]string
}

// The stream metadata file; docs/format/stream-meta.md is its specification.
var metaMagic = [4]byte{'T', 'P', 'S', 'M'}

const (
	metaVersion = 1
	metaFile    = "stream.meta"
)

type streamMeta struct {
	Name           string            `json:"name"`
	CreatedMs      int64             `json:"created_ms"`
	Mode           string            `json:"mode"`
	RetentionHours int               `json:"retention_hours"`
	Tags           map[string]string `json:"tags,omitempty"`
	Shards         []shardMeta       `json:"shards"`
}

type shardMeta struct {
	ID    string `json:"id"`
	Start string `json:"start_hash_key"`
	End   string `json:"end_hash_key"`
}

// Stream is a named set of shards that partition the hash key space.
type Stream struct {
	store  *Store
	name   string
	dir    string
	shards []*Shard

	mu   sync.RWMutex // guards meta's mutable fields
	meta streamMeta

	// deleted is set by DeleteStream before the shards close.
	deleted atomic.Bool
}

// StreamInfo is a snapshot of a stream's description.
type StreamInfo struct {
	Name string
	// Created is when the stream was created, to the millisecond. It
	// tells a stream from one deleted before it under the same name: the
	// store gives a stream created again a later Created time than the
	// deleted one's, even within the same millisecond.
	Created        time.Time
	Mode           string
	RetentionHours int
	ShardCount     int
	Tags           map[string]string
}

// ValidStreamName reports whether name is a valid Kinesis stream name:
// 1 to 128 of a-z, A-Z, 0-9, "_", "." and "-".
func ValidStreamName(name string) bool {
	if len(name) < 1 || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ShardID formats a shard index the way Kinesis names shards.
func ShardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// Name returns the stream's name.
func (st *Stream) Name() string { return st.name }

// Deleted reports whether the stream has been deleted.
func (st *Stream) Deleted() bool { return st.deleted.Load() }

// Shards returns the stream's shards, in hash key order.
func (st *Stream) Shards() []*Shard { return st.shards }

// Info returns a snapshot of the stream's description.
func (st *Stream) Info() StreamInfo {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return StreamInfo{
		Name: st.name, Created: time.UnixMilli(st.meta.CreatedMs), Mode: st.meta.Mode,
		RetentionHours: st.meta.RetentionHours, ShardCount: len(st.shards), Tags: maps.Clone(st.meta.Tags),
	}
}

// RetentionHours returns how long records are kept.
func (st *Stream) RetentionHours() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.meta.RetentionHours
}

// ShardFor returns the shard whose hash key range holds k.
func (st *Stream) ShardFor(k HashKey) *Shard {
	i := sort.Search(len(st.shards), func(i int) bool {
		e := st.shards[i].end
		return string(e[:]) >= string(k[:])
	})
	if i == len(st.shards) {
		panic("BUG: hash key ranges do not cover the key space")
	}
	return st.shards[i]
}

// ShardByID returns the shard with the given id.
func (st *Stream) ShardByID(id string) (*Shard, bool) {
	for _, sh := range st.shards {
		if sh.id == id {
			return sh, true
		}
	}
	return nil, false
}

// Update changes the stream's retention and tags durably. fn edits a copy of
// the description; if it returns an error nothing changes.
func (st *Stream) Update(fn func(retentionHours *int, tags map[string]string) error) error {
	st.store.mu.Lock() // serializes metadata writes with deletion
	defer st.store.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.meta
	m.Tags = maps.Clone(st.meta.Tags)
	if m.Tags == nil {
		m.Tags = map[string]string{}
	}
	if err := fn(&m.RetentionHours, m.Tags); err != nil {
		return err
	}
	if err := writeMeta(st.store.opts.FS, st.dir, &m); err != nil {
		return err
	}
	st.meta = m
	return nil
}

func writeMeta(fsys vfs.FS, dir string, m *streamMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("BUG: cannot encode stream metadata: %w", err)
	}
	return fsutil.WriteAtomicFS(fsys, filepath.Join(dir, metaFile), fsutil.Frame(metaMagic, metaVersion, b))
}

func readMeta(fsys vfs.FS, dir string) (*streamMeta, error) {
	b, err := fsys.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, err
	}
	v, payload, err := fsutil.Unframe(metaMagic, b)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", filepath.Join(dir, metaFile), err)
	}
	if v != metaVersion {
		return nil, fmt.Errorf("stream metadata version %d is not supported", v)
	}
	var m streamMeta
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", filepath.Join(dir, metaFile), err)
	}
	if len(m.Shards) == 0 {
		return nil, fmt.Errorf("stream metadata in %s lists no shards", dir)
	}
	return &m, nil
}

// openStream opens a stream directory whose metadata has been written.
func openStream(s *Store, dir string, m *streamMeta) (*Stream, error) {
	st := &Stream{store: s, name: m.Name, dir: dir, meta: *m}
	for i, sm := range m.Shards {
		start, err1 := ParseHashKey([]byte(sm.Start))
		end, err2 := ParseHashKey([]byte(sm.End))
		if err1 != nil || err2 != nil || sm.ID != ShardID(i) {
			st.close()
			return nil, fmt.Errorf("stream %q: shard %d metadata is invalid", m.Name, i)
		}
		sh, err := openShard(st, i, start, end, filepath.Join(dir, sm.ID))
		if err != nil {
			st.close()
			return nil, fmt.Errorf("cannot open shard %s of stream %q: %w", sm.ID, m.Name, err)
		}
		st.shards = append(st.shards, sh)
	}
	return st, nil
}

func (st *Stream) close() {
	var wg sync.WaitGroup
	for _, sh := range st.shards {
		wg.Add(1)
		go func() { defer wg.Done(); sh.close() }()
	}
	wg.Wait()
}
