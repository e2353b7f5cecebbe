// Package fsutil owns crash-safe file writing: every small file tenantpulse
// persists whole (stream metadata, segment indexes, later checkpoints and
// models) goes through WriteAtomic (WriteAtomicFS on another vfs.FS, such
// as the power-losing one of tests), and is framed with a magic, a version
// byte and a CRC-32C by Frame so a torn or foreign file is detected on read.
//
// It knows nothing of what the files mean; callers own their payloads.
package fsutil

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"

	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// ErrBadFrame reports a framed file whose magic, version or checksum does
// not match: it was torn, corrupted or written by something else.
var ErrBadFrame = errors.New("bad frame")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FrameHeaderSize is the size of the header Frame puts before a payload:
// 4 bytes magic, 1 byte version, 3 bytes zero, 4 bytes payload length
// (little endian), 4 bytes CRC-32C of the payload.
const FrameHeaderSize = 16

// Frame returns payload behind a header holding magic, version, length and
// checksum. The layout is documented in docs/format/framed-file.md.
func Frame(magic [4]byte, version byte, payload []byte) []byte {
	b := make([]byte, FrameHeaderSize, FrameHeaderSize+len(payload))
	copy(b, magic[:])
	b[4] = version
	binary.LittleEndian.PutUint32(b[8:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// Unframe checks b's header against magic and returns its version and payload.
func Unframe(magic [4]byte, b []byte) (version byte, payload []byte, err error) {
	if len(b) < FrameHeaderSize {
		return 0, nil, fmt.Errorf("%w: %d bytes is shorter than the header", ErrBadFrame, len(b))
	}
	if [4]byte(b[:4]) != magic {
		return 0, nil, fmt.Errorf("%w: magic %q, want %q", ErrBadFrame, b[:4], magic[:])
	}
	if b[5]|b[6]|b[7] != 0 {
		return 0, nil, fmt.Errorf("%w: reserved header bytes are not zero", ErrBadFrame)
	}
	n := binary.LittleEndian.Uint32(b[8:])
	if uint64(n) != uint64(len(b)-FrameHeaderSize) {
		return 0, nil, fmt.Errorf("%w: payload length %d, file holds %d", ErrBadFrame, n, len(b)-FrameHeaderSize)
	}
	payload = b[FrameHeaderSize:]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[12:]) {
		return 0, nil, fmt.Errorf("%w: checksum mismatch", ErrBadFrame)
	}
	return b[4], payload, nil
}

// WriteAtomic replaces path with data so that after a crash the file holds
// either its old or its new contents, never a mix: write a temporary file in
// the same directory, fsync it, rename it over path, fsync the directory.
func WriteAtomic(path string, data []byte) error { return WriteAtomicFS(vfs.OS, path, data) }

// WriteAtomicFS is WriteAtomic on the file system fsys.
func WriteAtomicFS(fsys vfs.FS, path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := fsys.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("cannot create temporary file for %q: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			fsys.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("cannot write %q: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cannot fsync %q: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot close %q: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("cannot rename %q to %q: %w", tmp, path, err)
	}
	ok = true
	return SyncDirFS(fsys, dir)
}

// SyncDir fsyncs a directory so that entries created, renamed or removed in
// it survive a crash.
func SyncDir(dir string) error { return SyncDirFS(vfs.OS, dir) }

// SyncDirFS is SyncDir on the file system fsys.
func SyncDirFS(fsys vfs.FS, dir string) error {
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("cannot fsync directory %q: %w", dir, err)
	}
	return nil
}

// MkdirAll creates dir and its missing parents, and makes each directory
// it creates durable in its parent (fsync of the parent), so that what is
// later written and synced inside survives a power loss.
func MkdirAll(dir string) error { return MkdirAllFS(vfs.OS, dir) }

// MkdirAllFS is MkdirAll on the file system fsys.
func MkdirAllFS(fsys vfs.FS, dir string) error {
	dir = filepath.Clean(dir)
	if fi, err := fsys.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("cannot create directory %q: a file has that name", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MkdirAllFS(fsys, parent); err != nil {
			return err
		}
	}
	if err := fsys.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cannot create directory %q: %w", dir, err)
	}
	return SyncDirFS(fsys, parent)
}

// RemoveTemps deletes temporary files WriteAtomic left in dir when a crash
// interrupted it.
func RemoveTemps(dir string) { RemoveTempsFS(vfs.OS, dir) }

// RemoveTempsFS is RemoveTemps on the file system fsys.
func RemoveTempsFS(fsys vfs.FS, dir string) {
	matches, _ := vfs.Glob(fsys, filepath.Join(dir, ".tmp-*"))
	for _, m := range matches {
		fsys.Remove(m)
	}
}
