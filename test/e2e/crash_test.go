package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Crash test shape. The kill points are counted in acknowledged records,
// not in time, so each incarnation of the server does some work whatever
// the machine's speed.
const (
	crashStream    = "crash"
	crashShards    = 4
	crashProducers = 6
	crashKills     = 10
	crashKeys      = 64    // partition keys, spread over the shards
	crashMaxAcks   = 25000 // most records acknowledged between two kills
	crashMaxBatch  = 60    // most records in one PutRecords
	crashWait      = 2 * time.Minute
)

// crashSegmentBytes makes segments small enough that the crash tests also
// roll segments, and recover sealed ones, many times.
const crashSegmentBytes = "262144"

// TestCrashKill9FsyncAlways: with the default --fsync always, no
// acknowledged record is lost to kill -9.
func TestCrashKill9FsyncAlways(t *testing.T) {
	runCrashTest(t)
}

// TestCrashKill9FsyncAlwaysSmallSegments is TestCrashKill9FsyncAlways with
// segments rolled every 256 KiB, so kills also land while segments are
// sealed and created, and recovery reads many sealed segments.
func TestCrashKill9FsyncAlwaysSmallSegments(t *testing.T) {
	runCrashTest(t, "--segment-bytes", crashSegmentBytes)
}

// TestCrashKill9FsyncInterval: with --fsync interval, a kill -9 is a process
// crash, not a machine crash: what was written survives in the page cache,
// so no acknowledged record may be lost either; and readers, who only see
// synced records, must never have seen a record that is later missing.
func TestCrashKill9FsyncInterval(t *testing.T) {
	runCrashTest(t, "--fsync", "interval", "--segment-bytes", crashSegmentBytes)
}

// runCrashTest starts the binary with args, creates a stream, runs
// concurrent producers and shard tailers, kill -9s and restarts the server
// on the same data directory crashKills times at random points, then reads
// every shard from TRIM_HORIZON and checks the log against what was sent,
// acknowledged and seen by the tailers.
func runCrashTest(t *testing.T, args ...string) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	dataDir := t.TempDir()
	srv := startServerIn(t, dataDir, args...)
	var cur atomic.Pointer[kinesis.Client]
	cur.Store(newKinesisClient(srv.url))
	ctx := context.Background()

	if _, err := cur.Load().CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(crashStream), ShardCount: aws.Int32(crashShards),
	}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	waitStreamActive(t, cur.Load())
	ranges := shardRanges(t, cur.Load())

	h := &crashHistory{records: map[string]*sentRecord{}, errs: map[string]string{}, nerrs: map[string]int{}}
	runCtx, stopRun := context.WithCancel(ctx)
	var wg, twg sync.WaitGroup
	defer func() { // also when the test fails half-way
		stopRun()
		wg.Wait()
		twg.Wait()
	}()
	for p := range crashProducers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.produce(runCtx, p, rand.New(rand.NewPCG(seed, uint64(p)+1)), &cur)
		}()
	}
	tailers := make([]*tailer, 0, len(ranges))
	for _, r := range ranges {
		tl := &tailer{shard: r.id}
		tailers = append(tailers, tl)
		twg.Add(1)
		go func() {
			defer twg.Done()
			tl.run(runCtx, &cur)
		}()
	}

	waitAcks := func(n int64) {
		t.Helper()
		if n <= 0 {
			return
		}
		target := h.acked.Load() + n
		waitFor(t, crashWait, 2*time.Millisecond, func() error {
			if got := h.acked.Load(); got < target {
				return fmt.Errorf("%d records acknowledged, waiting for %d", got, target)
			}
			return nil
		})
	}
	for k := range crashKills {
		// One kill in four lands right after the restart, while the
		// producers reconnect; the others after some work.
		if rng.IntN(4) > 0 {
			waitAcks(1 + rng.Int64N(crashMaxAcks))
		}
		// A random extra delay puts the kill anywhere in a request's life,
		// not only right after an acknowledgement.
		time.Sleep(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
		srv.kill9()
		t.Logf("kill %d: %d records sent, %d acknowledged", k+1, h.sent.Load(), h.acked.Load())
		srv = startServerIn(t, dataDir, args...)
		cur.Store(newKinesisClient(srv.url))
		// The stream survives the crash with its shards.
		waitStreamActive(t, cur.Load())
		if got := shardRanges(t, cur.Load()); len(got) != crashShards {
			t.Fatalf("after restart %d the stream has %d shards, want %d", k+1, len(got), crashShards)
		}
	}
	waitAcks(1 + rng.Int64N(crashMaxAcks)) // keep producing after the last restart
	stopRun()
	wg.Wait()
	twg.Wait()

	log := readSettled(t, cur.Load(), ranges)
	h.check(t, log, ranges, tailers)

	// A clean stop and start after all that keeps the log as it is.
	srv.stop()
	srv = startServerIn(t, dataDir, args...)
	again := readAll(t, newKinesisClient(srv.url), ranges)
	for _, r := range ranges {
		a, b := log[r.id], again[r.id]
		if len(a) != len(b) {
			t.Errorf("shard %s: %d records before a clean restart, %d after", r.id, len(a), len(b))
			continue
		}
		for i := range a {
			if a[i].seq != b[i].seq || a[i].key != b[i].key || !bytes.Equal(a[i].data, b[i].data) {
				t.Errorf("shard %s: record %d changed over a clean restart: %s %q became %s %q", r.id, i, a[i].seq, truncate(a[i].data), b[i].seq, truncate(b[i].data))
				break
			}
		}
	}
}

// newKinesisClient returns an aws-sdk-go-v2 client for url that never
// retries: a failed request is simply not acknowledged.
func newKinesisClient(url string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDCRASHTEST", "crash-test-secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient: &http.Client{
			Timeout:   15 * time.Second,
			Transport: bodyNoWriterTo{&http.Transport{MaxIdleConnsPerHost: 2 * crashProducers, IdleConnTimeout: 30 * time.Second}},
		},
	})
}

// bodyNoWriterTo works around a race in the SDK (smithy-go 1.28): its
// ClientHandler closes the request body as soon as the response headers
// arrive, and the body's WriteTo then returns io.EOF. net/http's write loop,
// which after copying Content-Length bytes drains the body with
// io.Copy(io.Discard, body), takes that EOF for a write error and closes the
// connection under the response still being read ("use of closed network
// connection"). A fast server answers before the write loop gets there.
// Hiding WriteTo makes the drain use Read, which reports a closed body as a
// plain end of stream.
type bodyNoWriterTo struct{ rt http.RoundTripper }

func (b bodyNoWriterTo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return b.rt.RoundTrip(req)
}

func waitStreamActive(t *testing.T, c *kinesis.Client) {
	t.Helper()
	waitFor(t, crashWait, 20*time.Millisecond, func() error {
		out, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(crashStream)})
		if err != nil {
			return err
		}
		if s := out.StreamDescriptionSummary.StreamStatus; s != types.StreamStatusActive {
			return fmt.Errorf("stream %s is %s", crashStream, s)
		}
		return nil
	})
}

// shardRange is a shard and the hash keys it holds.
type shardRange struct {
	id         string
	start, end *big.Int
}

func shardRanges(t *testing.T, c *kinesis.Client) []shardRange {
	t.Helper()
	out, err := c.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String(crashStream)})
	if err != nil {
		t.Fatalf("ListShards: %v", err)
	}
	var rs []shardRange
	for _, s := range out.Shards {
		start, ok1 := new(big.Int).SetString(aws.ToString(s.HashKeyRange.StartingHashKey), 10)
		end, ok2 := new(big.Int).SetString(aws.ToString(s.HashKeyRange.EndingHashKey), 10)
		if !ok1 || !ok2 {
			t.Fatalf("ListShards: shard %s has a bad hash key range %+v", aws.ToString(s.ShardId), s.HashKeyRange)
		}
		rs = append(rs, shardRange{id: aws.ToString(s.ShardId), start: start, end: end})
	}
	return rs
}

// shardOf returns the shard a partition key belongs to: the one whose range
// holds the key's MD5 as a 128-bit number.
func shardOf(ranges []shardRange, key string) string {
	sum := md5.Sum([]byte(key))
	k := new(big.Int).SetBytes(sum[:])
	for _, r := range ranges {
		if k.Cmp(r.start) >= 0 && k.Cmp(r.end) <= 0 {
			return r.id
		}
	}
	return ""
}

// sentRecord is one record a producer sent once (records are never resent:
// a failed one is given up and new ones get new ids).
type sentRecord struct {
	id       string
	key      string
	data     []byte
	sendTick int64 // the history clock before the request was sent
	// Set when acknowledged.
	acked   bool
	ackTick int64 // the history clock after the reply arrived
	shard   string
	seq     string
}

// crashHistory is everything the producers sent and had acknowledged. Its
// clock orders sends and acknowledgements: if a's ackTick is below b's
// sendTick, a was durable before b was sent, so on one shard a's sequence
// number must be lower.
type crashHistory struct {
	clock atomic.Int64
	sent  atomic.Int64
	acked atomic.Int64

	mu      sync.Mutex
	records map[string]*sentRecord
	errs    map[string]string // why requests or records failed, for the log: kind -> count and an example
	nerrs   map[string]int
}

// fail counts one failed request or record by the kind of its error.
func (h *crashHistory) fail(err error) {
	kind := "other"
	var ae interface{ ErrorCode() string }
	switch {
	case errors.As(err, &ae):
		kind = ae.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		kind = "connection refused"
	case strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset"):
		kind = "connection lost"
	}
	h.mu.Lock()
	h.nerrs[kind]++
	if _, ok := h.errs[kind]; !ok {
		h.errs[kind] = err.Error()
	}
	h.mu.Unlock()
}

func (h *crashHistory) produce(ctx context.Context, p int, rng *rand.Rand, cur *atomic.Pointer[kinesis.Client]) {
	n := 0
	newRecord := func() *sentRecord {
		n++
		id := fmt.Sprintf("p%d-%d", p, n)
		size := rng.IntN(512)
		if rng.IntN(20) == 0 {
			size = rng.IntN(16 << 10)
		}
		data := make([]byte, 0, len(id)+1+size)
		data = append(data, id...)
		data = append(data, '|')
		for range size {
			data = append(data, byte(rng.Uint32())) // any bytes, zeros and invalid UTF-8 included
		}
		return &sentRecord{id: id, key: fmt.Sprintf("key-%03d", rng.IntN(crashKeys)), data: data}
	}
	for ctx.Err() == nil {
		c := cur.Load()
		batch := []*sentRecord{newRecord()}
		single := rng.IntN(3) == 0
		if !single {
			for range rng.IntN(crashMaxBatch) {
				batch = append(batch, newRecord())
			}
		}
		h.mu.Lock()
		tick := h.clock.Add(1)
		for _, r := range batch {
			r.sendTick = tick
			h.records[r.id] = r
		}
		h.mu.Unlock()
		h.sent.Add(int64(len(batch)))

		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		if single {
			r := batch[0]
			out, err := c.PutRecord(rctx, &kinesis.PutRecordInput{
				StreamName: aws.String(crashStream), PartitionKey: aws.String(r.key), Data: r.data,
			})
			if err != nil {
				h.fail(err)
				pause(ctx, 5*time.Millisecond)
			} else {
				h.ack(r, aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber))
			}
		} else {
			in := &kinesis.PutRecordsInput{StreamName: aws.String(crashStream)}
			for _, r := range batch {
				in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(r.key), Data: r.data})
			}
			out, err := c.PutRecords(rctx, in)
			switch {
			case err != nil:
				h.fail(err)
				pause(ctx, 5*time.Millisecond)
			case len(out.Records) != len(batch):
				h.fail(fmt.Errorf("PutRecords answered %d results for %d records", len(out.Records), len(batch)))
			default:
				for i, res := range out.Records {
					if res.ErrorCode == nil {
						h.ack(batch[i], aws.ToString(res.ShardId), aws.ToString(res.SequenceNumber))
					} else {
						h.fail(fmt.Errorf("%s: %s", aws.ToString(res.ErrorCode), aws.ToString(res.ErrorMessage)))
					}
				}
			}
		}
		cancel()
	}
}

func (h *crashHistory) ack(r *sentRecord, shard, seq string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.acked, r.ackTick, r.shard, r.seq = true, h.clock.Add(1), shard, seq
	h.acked.Add(1)
}

// logRecord is one record read back from a shard.
type logRecord struct {
	seq  string
	key  string
	data []byte
}

// tailer follows one shard while the test runs, across restarts, and keeps
// what it saw.
type tailer struct {
	shard string
	seen  []logRecord
	errs  []string // ordering errors seen while tailing
}

func (tl *tailer) run(ctx context.Context, cur *atomic.Pointer[kinesis.Client]) {
	var it *string
	var itClient *kinesis.Client
	for ctx.Err() == nil {
		c := cur.Load()
		if c != itClient {
			it, itClient = nil, c
		}
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		if it == nil {
			in := &kinesis.GetShardIteratorInput{StreamName: aws.String(crashStream), ShardId: aws.String(tl.shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
			if n := len(tl.seen); n > 0 {
				in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
				in.StartingSequenceNumber = aws.String(tl.seen[n-1].seq)
			}
			out, err := c.GetShardIterator(rctx, in)
			if err != nil {
				cancel()
				pause(ctx, 5*time.Millisecond)
				continue
			}
			it = out.ShardIterator
		}
		out, err := c.GetRecords(rctx, &kinesis.GetRecordsInput{ShardIterator: it})
		cancel()
		if err != nil {
			it = nil
			pause(ctx, 5*time.Millisecond)
			continue
		}
		for _, r := range out.Records {
			seq := aws.ToString(r.SequenceNumber)
			if n := len(tl.seen); n > 0 && cmpSeq(tl.seen[n-1].seq, seq) >= 0 {
				tl.errs = append(tl.errs, fmt.Sprintf("tailer of %s saw %s after %s", tl.shard, seq, tl.seen[n-1].seq))
			}
			tl.seen = append(tl.seen, logRecord{seq: seq, key: aws.ToString(r.PartitionKey), data: r.Data})
		}
		it = out.NextShardIterator
		if len(out.Records) == 0 {
			pause(ctx, 10*time.Millisecond)
		}
	}
}

// pause waits d or until ctx is done: a producer's or tailer's back-off,
// not a wait for a condition.
func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// readAll reads every shard from TRIM_HORIZON to its end.
func readAll(t *testing.T, c *kinesis.Client, ranges []shardRange) map[string][]logRecord {
	t.Helper()
	ctx := context.Background()
	out := map[string][]logRecord{}
	for _, r := range ranges {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(crashStream), ShardId: aws.String(r.id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", r.id, err)
		}
		next := it.ShardIterator
		for {
			res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next})
			if err != nil {
				t.Fatalf("GetRecords %s: %v", r.id, err)
			}
			for _, rec := range res.Records {
				out[r.id] = append(out[r.id], logRecord{seq: aws.ToString(rec.SequenceNumber), key: aws.ToString(rec.PartitionKey), data: rec.Data})
			}
			next = res.NextShardIterator
			if len(res.Records) == 0 && aws.ToInt64(res.MillisBehindLatest) == 0 {
				break
			}
		}
	}
	return out
}

// readSettled reads every shard until two reads 300 ms apart agree: with
// --fsync interval an acknowledged record becomes readable at the next
// sync, and a request the producers gave up on at the end may still be
// written after they stopped.
func readSettled(t *testing.T, c *kinesis.Client, ranges []shardRange) map[string][]logRecord {
	t.Helper()
	log := readAll(t, c, ranges)
	var settled bool
	for range 50 {
		time.Sleep(300 * time.Millisecond)
		again := readAll(t, c, ranges)
		settled = true
		for _, r := range ranges {
			settled = settled && len(again[r.id]) == len(log[r.id])
		}
		if log = again; settled {
			return log
		}
	}
	t.Fatal("the shards still grow 15 s after the producers stopped")
	return nil
}

// cmpSeq compares two sequence numbers as the decimal numbers they are.
func cmpSeq(a, b string) int {
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	if !ok1 || !ok2 {
		return strings.Compare(a, b)
	}
	return x.Cmp(y)
}

// check proves, for the log read back at the end:
//   - every record in it was sent (its id is known), byte for byte, with its
//     partition key, in the shard its key hashes to, and only once;
//   - every acknowledged record is in it, in the shard and with the sequence
//     number it was acknowledged with;
//   - per shard, sequence numbers strictly increase (so none repeats);
//   - no record jumps the acknowledged order: if a was acknowledged before
//     b was sent and both are in one shard, a comes first (so records of
//     one partition key keep their order, and none acknowledged before a
//     later one is missing from before it);
//   - the records a tailer saw while the server was crashing are all still
//     there with the same sequence numbers and bytes, in the same order.
//
// Records sent but never acknowledged may be there (they were in flight).
func (h *crashHistory) check(t *testing.T, log map[string][]logRecord, ranges []shardRange, tailers []*tailer) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	const maxErrors = 20
	nerr := 0
	errorf := func(format string, args ...any) {
		t.Helper()
		nerr++
		if nerr <= maxErrors {
			t.Errorf(format, args...)
		}
	}

	found := map[string]string{} // id -> shard/seq where it was read
	bySeq := map[string]logRecord{}
	present, unackedPresent := 0, 0
	for _, r := range ranges {
		recs := log[r.id]
		var maxSend int64 = -1
		var maxSendID string
		for i, rec := range recs {
			where := r.id + "/" + rec.seq
			bySeq[where] = rec
			if i > 0 && cmpSeq(recs[i-1].seq, rec.seq) >= 0 {
				errorf("shard %s: sequence number %s follows %s; they must strictly increase", r.id, rec.seq, recs[i-1].seq)
			}
			id, _, ok := bytes.Cut(rec.data, []byte("|"))
			s := h.records[string(id)]
			if !ok || s == nil {
				errorf("%s: a record that was never sent: key %q, data %q", where, rec.key, truncate(rec.data))
				continue
			}
			if prev, dup := found[s.id]; dup {
				errorf("%s: record %s is in the log twice (also at %s)", where, s.id, prev)
				continue
			}
			found[s.id] = where
			present++
			if !bytes.Equal(rec.data, s.data) || rec.key != s.key {
				errorf("%s: record %s came back as key %q, data %q; it was sent as key %q, data %q", where, s.id, rec.key, truncate(rec.data), s.key, truncate(s.data))
			}
			if want := shardOf(ranges, s.key); want != r.id {
				errorf("%s: record %s with key %q is in shard %s; its key hashes to %s", where, s.id, s.key, r.id, want)
			}
			if s.acked {
				if s.shard != r.id || s.seq != rec.seq {
					errorf("%s: record %s was acknowledged as %s/%s", where, s.id, s.shard, s.seq)
				}
				if maxSend > s.ackTick {
					errorf("%s: record %s (acknowledged at tick %d) comes after record %s, sent later at tick %d", where, s.id, s.ackTick, maxSendID, maxSend)
				}
			} else {
				unackedPresent++
			}
			if s.sendTick > maxSend {
				maxSend, maxSendID = s.sendTick, s.id
			}
		}
	}

	var lost []string
	for _, s := range h.records {
		if s.acked {
			if _, ok := found[s.id]; !ok {
				lost = append(lost, fmt.Sprintf("%s (%s/%s)", s.id, s.shard, s.seq))
			}
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 {
		errorf("%d acknowledged records are missing, such as %s", len(lost), strings.Join(lost[:min(len(lost), 10)], ", "))
	}

	seen := 0
	for _, tl := range tailers {
		for _, e := range tl.errs {
			errorf("%s", e)
		}
		for _, rec := range tl.seen {
			seen++
			got, ok := bySeq[tl.shard+"/"+rec.seq]
			if !ok {
				errorf("a tailer read %s/%s (data %q), which is no longer in the log", tl.shard, rec.seq, truncate(rec.data))
				continue
			}
			if !bytes.Equal(got.data, rec.data) || got.key != rec.key {
				errorf("a tailer read %s/%s as key %q, data %q; it is now key %q, data %q", tl.shard, rec.seq, rec.key, truncate(rec.data), got.key, truncate(got.data))
			}
		}
	}
	if nerr > maxErrors {
		t.Errorf("... and %d more errors", nerr-maxErrors)
	}

	acked := h.acked.Load()
	t.Logf("%d records sent, %d acknowledged, %d in the log (%d of them never acknowledged), %d seen by tailers",
		len(h.records), acked, present, unackedPresent, seen)
	for kind, n := range h.nerrs {
		t.Logf("failed: %d × %s, such as: %s", n, kind, h.errs[kind])
	}
	if acked < crashKills {
		t.Errorf("only %d records were acknowledged; the test did not exercise the server", acked)
	}
	if seen == 0 {
		t.Errorf("the tailers saw no record; the test did not exercise readers")
	}
}

func truncate(b []byte) []byte {
	if len(b) > 48 {
		return b[:48]
	}
	return b
}
