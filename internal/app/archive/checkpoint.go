package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// checkpointMagic frames a shard's archive checkpoint (docs/format/archive-checkpoint.md).
var checkpointMagic = [4]byte{'T', 'P', 'A', 'R'}

const checkpointVersion = 1

// checkpoint is what a shard's archiver saves after each stored file.
type checkpoint struct {
	Stream string `json:"stream"`
	Shard  string `json:"shard"`
	// Position: every record up to and including this sequence number is
	// stored (or was not an event and is in the errors bucket); a restart
	// reads after it.
	Position string `json:"position"`
	// Stored: per partition, the highest sequence number stored, for
	// partitions stored beyond Position (records at or below it are
	// skipped on replay).
	Stored map[string]string `json:"stored,omitempty"`
	// Pending are the files being stored when the checkpoint was written:
	// a restart checks which exist and counts those as stored.
	Pending []pendingFile `json:"pending,omitempty"`
}

type pendingFile struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	Partition string `json:"partition"`
	Last      string `json:"last"`
}

func readCheckpoint(fsys vfs.FS, path string) (*checkpoint, error) {
	b, err := fsys.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read archive checkpoint %s: %w", path, err)
	}
	v, payload, err := fsutil.Unframe(checkpointMagic, b)
	if err != nil {
		return nil, fmt.Errorf("archive checkpoint %s: %w", path, err)
	}
	if v != checkpointVersion {
		return nil, fmt.Errorf("archive checkpoint %s has version %d; this build reads %d", path, v, checkpointVersion)
	}
	var c checkpoint
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("archive checkpoint %s: %w", path, err)
	}
	return &c, nil
}

func writeCheckpoint(fsys vfs.FS, path string, c *checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return fsutil.WriteAtomicFS(fsys, path, fsutil.Frame(checkpointMagic, checkpointVersion, b))
}

// seqLess compares two Kinesis sequence numbers, which are decimal
// numbers of varying length.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
