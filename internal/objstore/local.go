package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// local is the Store over a directory: <dir>/<bucket>/<key>, the key's '/'
// separated segments mapping to directories and a file.
type local struct {
	dir string
	fs  vfs.FS
	// synced holds the directories under dir (buckets and key
	// directories) this process made durable in their parents. A
	// directory that merely exists may have been made a moment ago by a
	// concurrent Put whose parent fsync is still to come: an object
	// stored in it must not be acknowledged before that.
	synced sync.Map // path -> struct{}
}

// NewLocal returns a Store keeping buckets as directories under dir (created
// if missing) and objects as files: key "a/b/c.parquet" in bucket "x" is
// <dir>/x/a/b/c.parquet. Bucket names and keys are validated
// (ValidateBucketName, ValidateKey) so nothing escapes dir. Put writes a
// temporary file (TempPrefix) beside the object and renames it into place;
// call RemoveTemps at startup to delete what a crash left behind.
//
// Unlike S3, a key cannot also be a directory of another key's path: with
// "a/b" stored, Put of "a" fails (and the other way round).
func NewLocal(dir string) (Store, error) { return NewLocalFS(vfs.OS, dir) }

// NewLocalFS is NewLocal on the file system fsys (tests lose power with
// a vfstest.FS).
func NewLocalFS(fsys vfs.FS, dir string) (Store, error) {
	if dir == "" {
		return nil, errors.New("objstore: the local store needs a directory; set one")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve the archive directory %q: %w", dir, err)
	}
	if err := fsys.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the archive directory %q: %w", abs, err)
	}
	return &local{dir: abs, fs: fsys}, nil
}

// RemoveTemps deletes the temporary files that interrupted Puts left under
// a local store's dir, and returns how many it removed. Call it at startup,
// before any Put: it would also remove the temporary file of a Put in
// progress (which then fails; nothing is lost or half written).
func RemoveTemps(dir string) (int, error) { return RemoveTempsFS(vfs.OS, dir) }

// RemoveTempsFS is RemoveTemps on the file system fsys.
func RemoveTempsFS(fsys vfs.FS, dir string) (int, error) {
	n := 0
	err := vfs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), TempPrefix) {
			if err := fsys.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("cannot remove temporary files under %q: %w", dir, err)
	}
	return n, nil
}

func (l *local) bucketDir(bucket string) (string, error) {
	if err := ValidateBucketName(bucket); err != nil {
		return "", err
	}
	return filepath.Join(l.dir, bucket), nil
}

func (l *local) paths(bucket, key string) (bdir, p string, err error) {
	bdir, err = l.bucketDir(bucket)
	if err != nil {
		return "", "", err
	}
	if err := ValidateKey(key); err != nil {
		return "", "", err
	}
	return bdir, filepath.Join(bdir, filepath.FromSlash(key)), nil
}

func (l *local) CreateBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bdir, err := l.bucketDir(bucket)
	if err != nil {
		return err
	}
	err = l.fs.Mkdir(bdir, 0o755)
	if err != nil && !(errors.Is(err, fs.ErrExist) && l.isDir(bdir)) {
		return fmt.Errorf("cannot create bucket %q: %w", bucket, err)
	}
	return l.syncIn(bdir, l.dir)
}

// syncIn makes directory d durable in its parent, once per process.
func (l *local) syncIn(d, parent string) error {
	if _, ok := l.synced.Load(d); ok {
		return nil
	}
	if err := fsutil.SyncDirFS(l.fs, parent); err != nil {
		return err
	}
	l.synced.Store(d, struct{}{})
	return nil
}

func (l *local) isDir(p string) bool {
	fi, err := l.fs.Stat(p)
	return err == nil && fi.IsDir()
}

// notExist reports errors meaning "no such file": the path, or one of its
// parents, is missing or a file.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func (l *local) Put(ctx context.Context, bucket, key string, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, tmp, err := l.writeTemp(bucket, key, body, true)
	if err != nil {
		return err
	}
	if err := l.fs.Rename(tmp, p); err != nil {
		l.fs.Remove(tmp)
		return fmt.Errorf("cannot put %q in bucket %q: %w", key, bucket, err)
	}
	return fsutil.SyncDirFS(l.fs, filepath.Dir(p))
}

// PutBatch stores objs as one Put each would, but makes them durable
// together: every object is written to a temporary file beside its place
// (several at a time), then the file system is synced once (syncfs), then
// each is renamed into place, then the file system is synced again. A
// crash at any point leaves each object whole or absent, as with Put.
func (l *local) PutBatch(ctx context.Context, objs []PutObject) error {
	if !haveSyncFS || len(objs) < 2 {
		return putEach(ctx, l, objs, 2*runtime.GOMAXPROCS(0))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	paths := make([]string, len(objs))
	temps := make([]string, len(objs))
	defer func() {
		for _, t := range temps {
			if t != "" {
				l.fs.Remove(t)
			}
		}
	}()
	errs := make([]error, len(objs))
	next := make(chan int, len(objs))
	for i := range objs {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(2*runtime.GOMAXPROCS(0), len(objs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				paths[i], temps[i], errs[i] = l.writeTemp(objs[i].Bucket, objs[i].Key, objs[i].Body, false)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := l.fs.SyncFS(l.dir); err != nil {
		return fmt.Errorf("cannot sync the archive's file system: %w", err)
	}
	var renameErr error
	renamed := false
	for i := range objs {
		if err := l.fs.Rename(temps[i], paths[i]); err != nil {
			renameErr = fmt.Errorf("cannot put %q in bucket %q: %w", objs[i].Key, objs[i].Bucket, err)
			break
		}
		temps[i] = ""
		renamed = true
	}
	if renamed {
		// Even after a failed rename: what is in place must be durable
		// before the caller may count it stored.
		if err := l.fs.SyncFS(l.dir); err != nil {
			return errors.Join(renameErr, fmt.Errorf("cannot sync the archive's file system: %w", err))
		}
	}
	return renameErr
}

// writeTemp writes body to a temporary file in the directory of key,
// creating the directories as needed, and returns the object's path and
// the temporary file's. With sync it fsyncs the file; PutBatch syncs the
// whole file system instead. The directories are made durable either way
// (mkdirs).
func (l *local) writeTemp(bucket, key string, body []byte, sync bool) (p, tmp string, err error) {
	bdir, p, err := l.paths(bucket, key)
	if err != nil {
		return "", "", err
	}
	if !l.isDir(bdir) {
		return "", "", fmt.Errorf("cannot put %q: bucket %q: %w (the bucket does not exist; create it first)", key, bucket, ErrNotFound)
	}
	// A concurrent Delete may prune a directory this just made (it was
	// empty); start again then.
	for attempt := 0; ; attempt++ {
		// The directory usually exists already (a partition gets many
		// files): one stat instead of a mkdir per path segment.
		if _, ok := l.synced.Load(filepath.Dir(p)); attempt > 0 || !ok {
			if err := l.mkdirs(bdir, key); err != nil {
				if notExist(err) && attempt < 10 {
					continue
				}
				return "", "", err
			}
		}
		if fi, err := l.fs.Lstat(p); err == nil && fi.IsDir() {
			return "", "", fmt.Errorf("cannot put %q in bucket %q: other keys start with %q, and the local store cannot hold a key that is also a directory of other keys", key, bucket, key+"/")
		}
		f, err := l.fs.CreateTemp(filepath.Dir(p), TempPrefix+filepath.Base(p)+"-*")
		if err != nil {
			if notExist(err) && attempt < 10 {
				continue // the directory was pruned by a Delete meanwhile
			}
			return "", "", fmt.Errorf("cannot put %q in bucket %q: %w", key, bucket, err)
		}
		_, werr := f.Write(body)
		var serr error
		if sync && werr == nil {
			serr = f.Sync()
		}
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			l.fs.Remove(f.Name())
			return "", "", fmt.Errorf("cannot put %q in bucket %q: %w", key, bucket, err)
		}
		return p, f.Name(), nil
	}
}

// mkdirs creates the directories of key's path under bdir and makes each
// durable in its parent: a directory it creates, always; one that exists,
// once per process (see local.synced).
func (l *local) mkdirs(bdir, key string) error {
	if err := l.syncIn(bdir, l.dir); err != nil {
		return err
	}
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return nil
	}
	d := bdir
	for seg := range strings.SplitSeq(key[:i], "/") {
		parent := d
		d = filepath.Join(d, seg)
		err := l.fs.Mkdir(d, 0o755)
		switch {
		case err == nil:
			l.synced.Delete(d) // made just now: sync it whatever was known
		case errors.Is(err, fs.ErrExist):
			fi, err := l.fs.Stat(d)
			if err != nil {
				// Pruned by a Delete meanwhile: the caller retries.
				return fmt.Errorf("cannot create directory for %q: %w", key, err)
			}
			if !fi.IsDir() {
				rel, _ := filepath.Rel(bdir, d)
				return fmt.Errorf("cannot put %q: %q is an object, and the local store cannot hold a key that is also a directory of other keys", key, filepath.ToSlash(rel))
			}
		default:
			return fmt.Errorf("cannot create directory for %q: %w", key, err)
		}
		if err := l.syncIn(d, parent); err != nil {
			return err
		}
	}
	return nil
}

func (l *local) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, p, err := l.paths(bucket, key)
	if err != nil {
		return nil, err
	}
	f, err := l.fs.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		if notExist(err) {
			return nil, fmt.Errorf("cannot get %q from bucket %q: %w", key, bucket, ErrNotFound)
		}
		return nil, fmt.Errorf("cannot get %q from bucket %q: %w", key, bucket, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot get %q from bucket %q: %w", key, bucket, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot get %q from bucket %q: %w", key, bucket, ErrNotFound)
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, fi.Size()), b); err != nil {
		return nil, fmt.Errorf("cannot read %q from bucket %q: %w", key, bucket, err)
	}
	return b, nil
}

func (l *local) List(ctx context.Context, bucket, prefix string) ([]Object, error) {
	bdir, err := l.bucketDir(bucket)
	if err != nil {
		return nil, err
	}
	// Walk from the deepest directory the prefix names whole. If that part
	// is not a valid key, no valid key starts with the prefix.
	root := bdir
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		if ValidateKey(prefix[:i]) != nil {
			return []Object{}, nil
		}
		root = filepath.Join(bdir, filepath.FromSlash(prefix[:i]))
	}
	objs := []Object{}
	err = vfs.WalkDir(l.fs, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if notExist(err) {
				return nil // a missing bucket or directory, or pruned meanwhile
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), TempPrefix) {
			return nil
		}
		rel, err := filepath.Rel(bdir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if p != root && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if notExist(err) {
				return nil // deleted meanwhile
			}
			return err
		}
		objs = append(objs, Object{Key: key, Size: fi.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list bucket %q (prefix %q): %w", bucket, prefix, err)
	}
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

func (l *local) Delete(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bdir, p, err := l.paths(bucket, key)
	if err != nil {
		return err
	}
	fi, err := l.fs.Lstat(p)
	if err != nil {
		if notExist(err) {
			return nil
		}
		return fmt.Errorf("cannot delete %q from bucket %q: %w", key, bucket, err)
	}
	if fi.IsDir() {
		return nil // no object at key, only keys below it
	}
	if err := l.fs.Remove(p); err != nil {
		if notExist(err) {
			return nil
		}
		return fmt.Errorf("cannot delete %q from bucket %q: %w", key, bucket, err)
	}
	// Prune the directories the key leaves empty, so that they neither
	// accumulate nor block a later Put of a key equal to one of them.
	d := filepath.Dir(p)
	for d != bdir && l.fs.Remove(d) == nil {
		l.synced.Delete(d)
		d = filepath.Dir(d)
	}
	if err := fsutil.SyncDirFS(l.fs, d); err != nil && !notExist(err) {
		return fmt.Errorf("cannot delete %q from bucket %q: %w", key, bucket, err)
	}
	return nil
}

func (l *local) Buckets(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil && !notExist(err) {
		return nil, fmt.Errorf("cannot list buckets in %q: %w", l.dir, err)
	}
	names := []string{}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) && ValidateBucketName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // ReadDir sorts by name already; keep the contract explicit
	return names, nil
}
