// Package vfstest is a vfs.FS in memory that keeps, apart from what
// programs see, only what they made durable: per file the content at its
// last Sync or Datasync, per directory the entries at its last SyncDir.
// Losing power (Crash, or PowerLossAfter) throws the rest away, as a
// machine losing power does and kill -9 does not (the page cache survives
// a killed process), so tests over it see a missing fsync.
//
// The model is strict POSIX: a file created, renamed or removed is durable
// in its directory only once that directory is synced, and a new
// directory's entry only once its parent is synced. With
// KeepUnsyncedEntries a power loss may also keep a directory's unsynced
// entries (a journal may commit a rename before the renamed file's data
// reaches the disk), so a rename of a file that was never synced shows.
package vfstest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// ErrPowerLost is returned by every operation on a file system after it
// lost power: the process that used it is, in effect, gone.
var ErrPowerLost = errors.New("vfstest: power lost")

type node struct {
	dir     bool
	data    []byte           // a file's content as programs see it
	synced  []byte           // a file's durable content
	kids    map[string]*node // a directory's entries as programs see them
	durable map[string]*node // a directory's durable entries
}

func newDir() *node { return &node{dir: true, kids: map[string]*node{}, durable: map[string]*node{}} }

// FS is the file system. Paths are slash-separated; relative ones start
// at the root.
type FS struct {
	mu    sync.Mutex
	root  *node
	dead  bool
	after *FS // the file system as the next boot finds it, once dead
	left  int // mutating operations until power is lost; <= 0: never
	seq   int
	keep  *rand.Rand // KeepUnsyncedEntries
}

var _ vfs.FS = (*FS)(nil)

// New returns an empty file system.
func New() *FS { return &FS{root: newDir()} }

// PowerLossAfter makes the file system lose power at its n-th next
// mutating operation (write, truncate, sync, create, rename, remove,
// mkdir), which fails with ErrPowerLost; n <= 0 cancels it.
func (f *FS) PowerLossAfter(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left = n
}

// KeepUnsyncedEntries makes a power loss keep, for each directory with a
// coin toss from r, the entries programs see instead of the synced ones:
// creates, renames and removes that no directory sync covered may then
// survive, while file contents still revert to what was synced.
func (f *FS) KeepUnsyncedEntries(r *rand.Rand) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keep = r
}

// Crash loses power now (unless it was lost already) and returns the file
// system as the next boot finds it. f itself fails every operation from
// then on.
func (f *FS) Crash() *FS {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.dead {
		f.die()
	}
	return f.after
}

// Crashed reports whether f lost power.
func (f *FS) Crashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dead
}

// die keeps the durable state for the next boot. Called with mu held.
func (f *FS) die() {
	f.dead = true
	seen := map[*node]*node{}
	var boot func(n *node) *node
	boot = func(n *node) *node {
		if c, ok := seen[n]; ok {
			return c
		}
		var c *node
		if n.dir {
			c = newDir()
			entries := n.durable
			if f.keep != nil && f.keep.IntN(2) == 0 {
				entries = n.kids
			}
			names := make([]string, 0, len(entries))
			for name := range entries {
				names = append(names, name)
			}
			sort.Strings(names) // the coin tosses in a reproducible order
			for _, name := range names {
				kc := boot(entries[name])
				c.kids[name], c.durable[name] = kc, kc
			}
		} else {
			c = &node{data: bytes.Clone(n.synced), synced: bytes.Clone(n.synced)}
		}
		seen[n] = c
		return c
	}
	f.after = &FS{root: boot(f.root), seq: f.seq} // temporary names stay unique
}

// op starts an operation; mutating ones count towards a power loss.
// Called with mu held.
func (f *FS) op(mutating bool) error {
	if f.dead {
		return ErrPowerLost
	}
	if mutating && f.left > 0 {
		f.left--
		if f.left == 0 {
			f.die()
			return ErrPowerLost
		}
	}
	return nil
}

func split(name string) []string {
	p := path.Clean("/" + filepath.ToSlash(name))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

func perr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

// lookup returns the node at name.
func (f *FS) lookup(name string) (*node, error) {
	n := f.root
	for _, e := range split(name) {
		if !n.dir {
			return nil, fs.ErrNotExist
		}
		k, ok := n.kids[e]
		if !ok {
			return nil, fs.ErrNotExist
		}
		n = k
	}
	return n, nil
}

// parent returns the directory holding name, and name's last element.
func (f *FS) parent(name string) (*node, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", fs.ErrInvalid
	}
	d, err := f.lookup(strings.Join(parts[:len(parts)-1], "/"))
	if err != nil {
		return nil, "", err
	}
	if !d.dir {
		return nil, "", fs.ErrNotExist
	}
	return d, parts[len(parts)-1], nil
}

// at starts operation op on name (see op) and returns the directory
// holding name, name's last element and the node there (nil if none).
func (f *FS) at(op, name string, mutating bool) (d *node, base string, n *node, err error) {
	if err := f.op(mutating); err != nil {
		return nil, "", nil, perr(op, name, err)
	}
	d, base, err = f.parent(name)
	if err != nil {
		return nil, "", nil, perr(op, name, err)
	}
	return d, base, d.kids[base], nil
}

// existing starts operation op on name (see op) and returns the node there.
func (f *FS) existing(op, name string, mutating bool) (*node, error) {
	if err := f.op(mutating); err != nil {
		return nil, perr(op, name, err)
	}
	n, err := f.lookup(name)
	if err != nil {
		return nil, perr(op, name, err)
	}
	return n, nil
}

// OpenFile opens a file; flags O_CREATE, O_EXCL, O_TRUNC and O_APPEND are
// honoured.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open(name, flag)
}

func (f *FS) open(name string, flag int) (vfs.File, error) {
	d, base, n, err := f.at("open", name, flag&(os.O_CREATE|os.O_TRUNC) != 0)
	if err != nil {
		return nil, err
	}
	ok := n != nil
	switch {
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, perr("open", name, fs.ErrExist)
	case ok && n.dir && flag&(os.O_WRONLY|os.O_RDWR) != 0:
		return nil, perr("open", name, errors.New("is a directory"))
	case !ok && flag&os.O_CREATE == 0:
		return nil, perr("open", name, fs.ErrNotExist)
	case !ok:
		n = &node{}
		d.kids[base] = n
	}
	if flag&os.O_TRUNC != 0 {
		n.data = n.data[:0]
	}
	return &file{fs: f, n: n, name: name, flag: flag}, nil
}

// CreateTemp creates a new file in dir named by pattern, its last "*"
// replaced by a number.
func (f *FS) CreateTemp(dir, pattern string) (vfs.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return f.open(filepath.Join(dir, tempName(pattern, f.seq)), os.O_RDWR|os.O_CREATE|os.O_EXCL)
}

func tempName(pattern string, seq int) string {
	s := strconv.Itoa(seq)
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		return pattern[:i] + s + pattern[i+1:]
	}
	return pattern + s
}

// ReadFile returns a file's content as programs see it.
func (f *FS) ReadFile(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.existing("read", name, false)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, perr("read", name, errors.New("is a directory"))
	}
	return bytes.Clone(n.data), nil
}

// Stat describes a file or directory.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.existing("stat", name, false)
	if err != nil {
		return nil, err
	}
	return info(path.Base("/"+filepath.ToSlash(name)), n), nil
}

// ReadDir lists a directory, sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.existing("readdir", name, false)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return nil, perr("readdir", name, errors.New("not a directory"))
	}
	out := make([]fs.DirEntry, 0, len(n.kids))
	for k, c := range n.kids {
		out = append(out, fs.FileInfoToDirEntry(info(k, c)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// Lstat is Stat: there are no symbolic links.
func (f *FS) Lstat(name string) (fs.FileInfo, error) { return f.Stat(name) }

// Mkdir creates one directory in an existing one.
func (f *FS) Mkdir(name string, perm fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, b, n, err := f.at("mkdir", name, true)
	if err != nil {
		return err
	}
	if n != nil {
		return perr("mkdir", name, fs.ErrExist)
	}
	d.kids[b] = newDir()
	return nil
}

// MkdirAll creates a directory and its missing parents.
func (f *FS) MkdirAll(name string, perm fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op(true); err != nil {
		return perr("mkdir", name, err)
	}
	n := f.root
	for _, e := range split(name) {
		k, ok := n.kids[e]
		if !ok {
			k = newDir()
			n.kids[e] = k
		} else if !k.dir {
			return perr("mkdir", name, errors.New("not a directory"))
		}
		n = k
	}
	return nil
}

// MkdirTemp creates a new directory in dir named by pattern.
func (f *FS) MkdirTemp(dir, pattern string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op(true); err != nil {
		return "", perr("mkdirtemp", dir, err)
	}
	d, err := f.lookup(dir)
	if err != nil || !d.dir {
		return "", perr("mkdirtemp", dir, fs.ErrNotExist)
	}
	f.seq++
	name := tempName(pattern, f.seq)
	d.kids[name] = newDir()
	return filepath.Join(dir, name), nil
}

// Rename moves a file or directory, replacing a file or an empty
// directory at newpath.
func (f *FS) Rename(oldpath, newpath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	od, ob, n, err := f.at("rename", oldpath, true)
	if err != nil {
		return err
	}
	if n == nil {
		return perr("rename", oldpath, fs.ErrNotExist)
	}
	nd, nb, err := f.parent(newpath)
	if err != nil {
		return perr("rename", newpath, err)
	}
	if t, ok := nd.kids[nb]; ok && t != n {
		if t.dir != n.dir || (t.dir && len(t.kids) > 0) {
			return perr("rename", newpath, fs.ErrExist)
		}
	}
	delete(od.kids, ob)
	nd.kids[nb] = n
	return nil
}

// Remove removes a file or an empty directory.
func (f *FS) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, b, n, err := f.at("remove", name, true)
	if err != nil {
		return err
	}
	if n == nil {
		return perr("remove", name, fs.ErrNotExist)
	}
	if n.dir && len(n.kids) > 0 {
		return perr("remove", name, errors.New("directory not empty"))
	}
	delete(d.kids, b)
	return nil
}

// RemoveAll removes name and everything under it; a missing name is not
// an error.
func (f *FS) RemoveAll(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, b, _, err := f.at("removeall", name, true)
	if errors.Is(err, ErrPowerLost) {
		return err
	}
	if err == nil {
		delete(d.kids, b)
	}
	return nil
}

// SyncDir makes a directory's entries durable.
func (f *FS) SyncDir(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.existing("syncdir", name, true)
	if err != nil {
		return err
	}
	if !n.dir {
		return perr("syncdir", name, errors.New("not a directory"))
	}
	n.durable = make(map[string]*node, len(n.kids))
	for k, c := range n.kids {
		n.durable[k] = c
	}
	return nil
}

// SyncFS makes everything durable: every file's content and every
// directory's entries (syncfs(2)).
func (f *FS) SyncFS(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.op(true); err != nil {
		return perr("syncfs", dir, err)
	}
	var walk func(n *node)
	walk = func(n *node) {
		if !n.dir {
			n.synced = bytes.Clone(n.data)
			return
		}
		n.durable = make(map[string]*node, len(n.kids))
		for k, c := range n.kids {
			n.durable[k] = c
			walk(c)
		}
	}
	walk(f.root)
	return nil
}

type file struct {
	fs     *FS
	n      *node
	name   string
	flag   int
	off    int64
	closed bool
}

func (h *file) start(op string, mutating bool) error {
	if err := h.fs.op(mutating); err != nil {
		return perr(op, h.name, err)
	}
	if h.closed {
		return perr(op, h.name, fs.ErrClosed)
	}
	return nil
}

func (h *file) Name() string { return h.name }

func (h *file) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.start("read", false); err != nil {
		return 0, err
	}
	if off >= int64(len(h.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *file) writeAt(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(h.n.data)) {
		h.n.data = append(h.n.data, make([]byte, end-int64(len(h.n.data)))...)
	}
	copy(h.n.data[off:], p)
}

func (h *file) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.start("write", true); err != nil {
		return 0, err
	}
	if h.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return 0, perr("write", h.name, errors.New("file is open for reading only"))
	}
	h.writeAt(p, off)
	return len(p), nil
}

func (h *file) Write(p []byte) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.start("write", true); err != nil {
		return 0, err
	}
	if h.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return 0, perr("write", h.name, errors.New("file is open for reading only"))
	}
	if h.flag&os.O_APPEND != 0 {
		h.off = int64(len(h.n.data))
	}
	h.writeAt(p, h.off)
	h.off += int64(len(p))
	return len(p), nil
}

func (h *file) Stat() (fs.FileInfo, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.start("stat", false); err != nil {
		return nil, err
	}
	return info(path.Base("/"+filepath.ToSlash(h.name)), h.n), nil
}

func (h *file) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.start("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return perr("truncate", h.name, fs.ErrInvalid)
	}
	if size <= int64(len(h.n.data)) {
		h.n.data = h.n.data[:size]
	} else {
		h.n.data = append(h.n.data, make([]byte, size-int64(len(h.n.data)))...)
	}
	return nil
}

func (h *file) Sync() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.start("sync", true); err != nil {
		return err
	}
	h.n.synced = bytes.Clone(h.n.data)
	return nil
}

func (h *file) Datasync() error { return h.Sync() }

func (h *file) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return perr("close", h.name, fs.ErrClosed)
	}
	h.closed = true
	return nil
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func info(name string, n *node) fs.FileInfo {
	return fileInfo{name: name, size: int64(len(n.data)), dir: n.dir}
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
