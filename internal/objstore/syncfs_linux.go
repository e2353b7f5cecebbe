package objstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS commits every written file and directory entry of the file
// system holding dir to disk (syncfs(2)). Since Linux 5.8 it reports
// write-back errors of any file of that file system.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}

const haveSyncFS = true
