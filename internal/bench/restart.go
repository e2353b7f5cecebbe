package bench

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/datadir"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// restartStream is the stream `bench restart` fills and reopens.
const restartStream = "bench-restart"

// runRestartCommand measures how long `tenantpulse serve` takes to be ready
// with many records retained, after a clean stop and after kill -9, and the
// server's memory once ready.
func runRestartCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench restart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "", "data directory to fill and restart on (default: a temporary directory, removed afterwards)")
	records := fs.Int64("records", 10_000_000, "records to retain")
	size := fs.Int("size", 100, "record data bytes")
	shards := fs.Int("shards", 2, "shards of the benchmark stream")
	binary := fs.String("binary", "", "tenantpulse binary to start (default: this one)")
	runs := fs.Int("runs", 3, "restarts of each kind to time")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *binary == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "bench restart: cannot find this binary: %v; pass --binary\n", err)
			return 2
		}
		*binary = exe
	}
	dir, lock, cleanup, err := workDir(*dataDir, "restart")
	if err != nil {
		fmt.Fprintf(stderr, "bench restart: %v\n", err)
		return 1
	}
	defer cleanup()
	if err := restartBench(ctx, dir, lock, *binary, *records, *size, *shards, *runs, stdout); err != nil {
		fmt.Fprintf(stderr, "bench restart: %v\n", err)
		return 1
	}
	return 0
}

// restartBench fills dir while it holds lock, then gives the lock to the
// servers it starts, taking it back only to drop indexes between them.
func restartBench(ctx context.Context, dir string, lock *datadir.Lock, binary string, records int64, size, shards, runs int, out io.Writer) error {
	have, err := fillRestartStream(dir, records, size, shards, out)
	if err != nil {
		return err
	}
	lock.Release() // each server run takes it
	segs, bytes := dirStats(filepath.Join(dir, "streams"))
	fmt.Fprintf(out, "restart  data %s: %s records in stream %s, %d segment files, %.1f GB\n", dir, commas(have), restartStream, segs, float64(bytes)/1e9)
	for _, kind := range []string{"clean", "kill-9"} {
		for i := 0; i < runs; i++ {
			if kind == "kill-9" {
				l, err := datadir.Acquire(dir, "bench restart")
				if err != nil {
					return err
				}
				dropLargestIndexes(filepath.Join(dir, "streams"))
				l.Release()
			}
			ready, rss, err := timeStart(ctx, binary, dir, kind)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "restart  after %-6s  ready in %6.3fs  rss at ready %d MiB\n", kind, ready.Seconds(), rss>>20)
		}
	}
	return nil
}

// fillRestartStream makes sure dir holds at least records records in the
// benchmark stream, appending through the store directly (not measured).
func fillRestartStream(dir string, records int64, size, shards int, out io.Writer) (int64, error) {
	s, err := streamlog.Open(streamlog.Options{Dir: dir, Fsync: streamlog.FsyncInterval, FsyncInterval: time.Second, MinFreeBytes: 1})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	st, err := s.Stream(restartStream)
	if err != nil {
		st, err = s.CreateStream(streamlog.StreamConfig{Name: restartStream, ShardCount: shards})
		if err != nil {
			return 0, err
		}
	}
	var have int64
	for _, sh := range st.Shards() {
		first, end, err := sh.Bounds()
		if err != nil {
			return 0, err
		}
		have += int64(end - first)
	}
	need := records - have
	if need <= 0 {
		return have, nil
	}
	fmt.Fprintf(out, "restart  filling %s records of %d bytes (not timed)...\n", commas(need), size)
	started := time.Now()
	const batch = 500
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte('a' + rand.IntN(26))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	per := need / int64(len(st.Shards()))
	for k, sh := range st.Shards() {
		n := per
		if k == 0 {
			n += need % int64(len(st.Shards()))
		}
		const writers = 4
		for w := 0; w < writers; w++ {
			share := n / writers
			if w == 0 {
				share += n % writers
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				entries := make([]streamlog.Entry, batch)
				seqs := make([]streamlog.Seq, batch)
				for done := int64(0); done < share; {
					m := min(int64(batch), share-done)
					for j := range entries[:m] {
						entries[j] = streamlog.Entry{PartitionKey: []byte(fmt.Sprintf("tenant-%d", (done+int64(j))%10000)), Data: payload}
					}
					if _, err := sh.Append(entries[:m], seqs[:m]); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
					done += m
				}
			}()
		}
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	fmt.Fprintf(out, "restart  filled in %.1fs\n", time.Since(started).Seconds())
	return have + need, nil
}

var listeningRE = regexp.MustCompile(`listening on (\S+?)"?(\s|$)`)

// timeStart starts the server on dir and returns the time until /healthz
// answers and its resident memory then; it stops the server cleanly
// ("clean") or with kill -9 ("kill-9") so that the next start recovers.
func timeStart(ctx context.Context, binary, dir, stop string) (time.Duration, uint64, error) {
	cmd := exec.CommandContext(ctx, binary, "serve", "--listen", "127.0.0.1:0", "--data", dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, 0, err
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("cannot start %s: %w", binary, err)
	}
	defer cmd.Wait()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				addr <- m[1]
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(60 * time.Second):
	}
	if a == "" {
		cmd.Process.Kill()
		return 0, 0, fmt.Errorf("the server did not report its address")
	}
	for {
		resp, err := http.Get("http://" + a + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(started) > 60*time.Second {
			cmd.Process.Kill()
			return 0, 0, fmt.Errorf("the server was not healthy after 60s")
		}
		time.Sleep(time.Millisecond)
	}
	ready := time.Since(started)
	rss := readRSS(cmd.Process.Pid)
	if stop == "kill-9" {
		cmd.Process.Signal(syscall.SIGKILL)
	} else {
		cmd.Process.Signal(syscall.SIGTERM)
	}
	return ready, rss, nil
}

// dropLargestIndexes removes, in every shard directory under dir, the index
// of the largest segment: a crash leaves the segment being written without
// an index, and it can be a full one, so recovery scans it whole.
func dropLargestIndexes(dir string) {
	shardDirs, _ := filepath.Glob(filepath.Join(dir, "*", "shardId-*"))
	for _, sd := range shardDirs {
		segs, _ := filepath.Glob(filepath.Join(sd, "*.seg"))
		var largest string
		var size int64 = -1
		for _, s := range segs {
			if fi, err := os.Stat(s); err == nil && fi.Size() > size {
				largest, size = s, fi.Size()
			}
		}
		if largest != "" {
			os.Remove(strings.TrimSuffix(largest, ".seg") + ".idx")
		}
	}
}

func readRSS(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	rss, _ := parseProcStatusMem(b)
	return uint64(rss)
}

func dirStats(dir string) (segments int, bytes int64) {
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			bytes += fi.Size()
			if strings.HasSuffix(p, ".seg") {
				segments++
			}
		}
		return nil
	})
	return segments, bytes
}
