// Package vfs owns the narrow file-system interface the durable parts of
// tenantpulse (the stream store, atomic file writes) do their I/O through,
// and its implementation over the operating system (OS, the default).
//
// The interface exists so that tests can run the same code over a file
// system that keeps only what was synced (vfstest) and "lose power" at any
// point: kill -9 keeps the page cache, so only such a file layer shows a
// missing fsync. It must not grow beyond what those callers use.
package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is an open file.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Writer
	Name() string
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
	// Sync makes the file's data and metadata durable (fsync).
	Sync() error
	// Datasync makes the file's data durable and the metadata needed to
	// read it (fdatasync).
	Datasync() error
	Close() error
}

// FS is the file system. Paths are the operating system's.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// CreateTemp creates a new file in dir, as os.CreateTemp does.
	CreateTemp(dir, pattern string) (File, error)
	ReadFile(name string) ([]byte, error)
	Stat(name string) (fs.FileInfo, error)
	// Lstat is Stat of a symbolic link itself (vfstest has none).
	Lstat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
	// Mkdir creates one directory; it fails with fs.ErrExist if name
	// exists.
	Mkdir(name string, perm fs.FileMode) error
	MkdirAll(name string, perm fs.FileMode) error
	MkdirTemp(dir, pattern string) (string, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	RemoveAll(name string) error
	// SyncDir makes the directory's entries durable: files created,
	// renamed into or removed from it.
	SyncDir(name string) error
	// SyncFS makes everything written to the file system holding dir
	// durable (syncfs(2); an error where the system has none).
	SyncFS(dir string) error
}

// Glob returns the names in one directory of fsys matching pattern, as
// filepath.Glob does; only the last element of pattern may hold
// wildcards. A missing directory matches nothing.
func Glob(fsys FS, pattern string) ([]string, error) {
	dir, base := filepath.Split(pattern)
	if _, err := filepath.Match(base, ""); err != nil {
		return nil, err
	}
	if dir == "" {
		dir = "."
	}
	entries, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if ok, _ := filepath.Match(base, e.Name()); ok {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// WalkDir walks the tree at root in fsys as filepath.WalkDir does (lexical
// order, fs.SkipDir and fs.SkipAll honoured).
func WalkDir(fsys FS, root string, fn fs.WalkDirFunc) error {
	if _, ok := fsys.(osFS); ok {
		return filepath.WalkDir(root, fn)
	}
	info, err := fsys.Lstat(root)
	if err != nil {
		err = fn(root, nil, err)
	} else {
		err = walkDir(fsys, root, fs.FileInfoToDirEntry(info), fn)
	}
	if err == fs.SkipDir || err == fs.SkipAll {
		return nil
	}
	return err
}

func walkDir(fsys FS, path string, d fs.DirEntry, fn fs.WalkDirFunc) error {
	if err := fn(path, d, nil); err != nil || !d.IsDir() {
		if err == fs.SkipDir && d.IsDir() {
			err = nil
		}
		return err
	}
	entries, err := fsys.ReadDir(path)
	if err != nil {
		if err = fn(path, d, err); err != nil {
			if err == fs.SkipDir && d.IsDir() {
				err = nil
			}
			return err
		}
	}
	for _, e := range entries {
		if err := walkDir(fsys, filepath.Join(path, e.Name()), e, fn); err != nil {
			if err == fs.SkipDir {
				break
			}
			return err
		}
	}
	return nil
}

// OS is the operating system's file system.
var OS FS = osFS{}

// Or returns f, or OS when f is nil: the default of an Options field.
func Or(f FS) FS {
	if f == nil {
		return OS
	}
	return f
}

type osFS struct{}

type osFile struct{ *os.File }

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) CreateTemp(dir, pattern string) (File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) ReadFile(name string) ([]byte, error)          { return os.ReadFile(name) }
func (osFS) Stat(name string) (fs.FileInfo, error)         { return os.Stat(name) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error)    { return os.ReadDir(name) }
func (osFS) Lstat(name string) (fs.FileInfo, error)        { return os.Lstat(name) }
func (osFS) Mkdir(name string, perm fs.FileMode) error     { return os.Mkdir(name, perm) }
func (osFS) MkdirAll(name string, perm fs.FileMode) error  { return os.MkdirAll(name, perm) }
func (osFS) MkdirTemp(dir, pattern string) (string, error) { return os.MkdirTemp(dir, pattern) }
func (osFS) Rename(oldpath, newpath string) error          { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                      { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                   { return os.RemoveAll(name) }

func (osFS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
