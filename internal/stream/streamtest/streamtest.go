// Package streamtest is the conformance suite every stream.Reader backend
// passes: Run it with a setup that gives the backend a fresh
// streamlog.Store to read (directly, or through the Kinesis API served
// over it).
package streamtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// Env is one backend under test, over a fresh store.
type Env struct {
	// Reader is the backend under test; it reads what is appended to
	// Store.
	Reader stream.Reader
	// Store is where the suite creates streams and appends records.
	Store *streamlog.Store
	// Advance moves the store's clock forward, for the retention cases
	// (which are skipped when it is nil).
	Advance func(time.Duration)
	// ReportsTrimmed says the backend sets Batch.Trimmed; otherwise the
	// retention cases only check that expired records are skipped and
	// that Trimmed is never set.
	ReportsTrimmed bool
	// ArrivalSlack is how far, in milliseconds, Record.Arrival may fall
	// below the stored arrival time (the AWS SDK truncates fractional
	// epoch seconds parsed as float64).
	ArrivalSlack int64
}

// Run runs every case, each with a fresh Env from setup.
func Run(t *testing.T, setup func(t *testing.T) Env) {
	cases := []struct {
		name string
		f    func(t *testing.T, e Env)
	}{
		{"Describe", testDescribe},
		{"Recreated", testRecreated},
		{"ReadAll", testReadAll},
		{"Resume", testResume},
		{"Batching", testBatching},
		{"Wait", testWait},
		{"MillisBehind", testMillisBehind},
		{"NotFound", testNotFound},
		{"BadSequence", testBadSequence},
		{"LargeRecords", testLargeRecords},
		{"ManySmall", testManySmall},
		{"ConcurrentShards", testConcurrentShards},
		{"Retention", testRetention},
		{"CancelAndClose", testCancelAndClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.f(t, setup(t))
		})
	}
}

// want is a record as appended.
type want struct {
	seq     string
	arrival int64
	pk      string
	data    []byte
}

func createStream(t *testing.T, e Env, name string, shards int) *streamlog.Stream {
	t.Helper()
	st, err := e.Store.CreateStream(streamlog.StreamConfig{Name: name, ShardCount: shards})
	if err != nil {
		t.Fatalf("cannot create stream %s: %v", name, err)
	}
	return st
}

// appendN appends n records to sh, made by mk(i), in batches of up to 500.
func appendN(t testing.TB, sh *streamlog.Shard, n int, mk func(i int) (pk string, data []byte)) []want {
	t.Helper()
	var out []want
	for len(out) < n {
		k := min(500, n-len(out))
		entries := make([]streamlog.Entry, k)
		ws := make([]want, k)
		for j := range entries {
			pk, data := mk(len(out) + j)
			entries[j] = streamlog.Entry{PartitionKey: []byte(pk), Data: data}
			ws[j] = want{pk: pk, data: data}
		}
		seqs := make([]streamlog.Seq, k)
		ts, err := sh.Append(entries, seqs)
		if err != nil {
			t.Errorf("cannot append to %s: %v", sh.ID(), err)
			return out
		}
		for j := range ws {
			ws[j].seq, ws[j].arrival = seqs[j].String(), ts
		}
		out = append(out, ws...)
	}
	return out
}

func small(prefix string) func(i int) (string, []byte) {
	return func(i int) (string, []byte) {
		return fmt.Sprintf("%s-key-%d", prefix, i%7), fmt.Appendf(nil, "%s record %d", prefix, i)
	}
}

func open(t testing.TB, e Env, stream, shard, after string) stream.Cursor {
	t.Helper()
	c, err := e.Reader.Open(context.Background(), stream, shard, after)
	if err != nil {
		t.Fatalf("Open(%s, %s, %q): %v", stream, shard, after, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readN reads from c until it has n records, copying them, failing on an
// error or when 20 calls in a row bring nothing.
func readN(t testing.TB, e Env, c stream.Cursor, n, max int) []want {
	t.Helper()
	var got []want
	for empty := 0; len(got) < n; {
		b, err := c.Next(context.Background(), max, 500*time.Millisecond)
		if err != nil {
			t.Errorf("Next after %d of %d records: %v", len(got), n, err)
			return got
		}
		if len(b.Records) > max {
			t.Errorf("Next(max %d) returned %d records", max, len(b.Records))
		}
		if b.Trimmed {
			t.Errorf("Next after %d records reports Trimmed, but nothing expired", len(got))
		}
		if len(b.Records) == 0 {
			if empty++; empty == 20 {
				t.Errorf("read %d of %d records, then nothing", len(got), n)
				return got
			}
			continue
		}
		empty = 0
		for _, r := range b.Records {
			got = append(got, want{seq: strings.Clone(r.Seq), arrival: r.Arrival, pk: string(r.PartitionKey), data: bytes.Clone(r.Data)})
		}
	}
	return got
}

// check compares records read with records appended.
func check(t testing.TB, e Env, got, exp []want) {
	t.Helper()
	if len(got) != len(exp) {
		t.Errorf("read %d records, want %d", len(got), len(exp))
	}
	bad := 0
	for i := range min(len(got), len(exp)) {
		g, w := got[i], exp[i]
		ok := g.seq == w.seq && g.pk == w.pk && bytes.Equal(g.data, w.data) &&
			g.arrival <= w.arrival && g.arrival >= w.arrival-e.ArrivalSlack
		if !ok {
			t.Errorf("record %d: got seq %s arrival %d key %q data %d bytes %.40q; want seq %s arrival %d key %q data %d bytes %.40q",
				i, g.seq, g.arrival, g.pk, len(g.data), g.data, w.seq, w.arrival, w.pk, len(w.data), w.data)
			if bad++; bad == 5 {
				t.Errorf("too many mismatches; not checking the rest")
				return
			}
		}
	}
}

// next calls c.Next and fails the test on an error.
func next(t testing.TB, c stream.Cursor, max int, wait time.Duration) stream.Batch {
	t.Helper()
	b, err := c.Next(context.Background(), max, wait)
	if err != nil {
		t.Fatalf("Next(%d, %v): %v", max, wait, err)
	}
	return b
}

func testDescribe(t *testing.T, e Env) {
	twelve := createStream(t, e, "twelve", 12)
	one := createStream(t, e, "one", 1)
	f := func(st *streamlog.Stream, n int) {
		t.Helper()
		d, err := e.Reader.Describe(context.Background(), st.Name())
		if err != nil {
			t.Fatalf("Describe(%s): %v", st.Name(), err)
		}
		if len(d.Shards) != n {
			t.Fatalf("Describe(%s).Shards = %q, want %d shards", st.Name(), d.Shards, n)
		}
		for i, id := range d.Shards {
			if want := streamlog.ShardID(i); id != want {
				t.Errorf("Describe(%s).Shards[%d] = %s, want %s", st.Name(), i, id, want)
			}
		}
		if want := st.Info().Created.UnixMilli(); d.Created > want || d.Created < want-e.ArrivalSlack {
			t.Errorf("Describe(%s).Created = %d, want %d", st.Name(), d.Created, want)
		}
	}
	f(twelve, 12)
	f(one, 1)
}

// testRecreated deletes a stream under an open cursor and creates it
// again: the old cursor reports the stream gone (it does not wait on a
// dead shard as if it were idle), Describe tells the new stream by its
// Created time, and a position from the old stream is refused.
func testRecreated(t *testing.T, e Env) {
	ctx := context.Background()
	st := createStream(t, e, "s", 1)
	old := appendN(t, st.Shards()[0], 3, small("old"))
	d1, err := e.Reader.Describe(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, e, "s", streamlog.ShardID(0), "")
	check(t, e, readN(t, e, c, len(old), 10), old)
	if err := e.Store.DeleteStream("s"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reader.Describe(ctx, "s"); !errors.Is(err, stream.ErrStreamNotFound) {
		t.Errorf("Describe of a deleted stream: %v, want ErrStreamNotFound", err)
	}
	st = createStream(t, e, "s", 1)
	renewed := appendN(t, st.Shards()[0], 2, small("new"))
	if _, err := c.Next(ctx, 10, 100*time.Millisecond); !errors.Is(err, stream.ErrStreamNotFound) {
		t.Errorf("Next on a cursor of the deleted stream: %v, want ErrStreamNotFound", err)
	}
	d2, err := e.Reader.Describe(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if d2.Created == d1.Created {
		t.Errorf("the recreated stream has the deleted one's Created %d", d1.Created)
	}
	if c, err := e.Reader.Open(ctx, "s", streamlog.ShardID(0), old[len(old)-1].seq); !errors.Is(err, stream.ErrBadSequence) {
		t.Errorf("Open after a sequence number of the deleted stream: %v, want ErrBadSequence", err)
		if c != nil {
			c.Close()
		}
	}
	check(t, e, readN(t, e, open(t, e, "s", streamlog.ShardID(0), ""), len(renewed), 10), renewed)
}

func testReadAll(t *testing.T, e Env) {
	st := createStream(t, e, "s", 2)
	a := appendN(t, st.Shards()[0], 10, small("a"))
	a = append(a, appendN(t, st.Shards()[0], 5, small("a2"))...)
	bs := appendN(t, st.Shards()[1], 3, small("b"))
	check(t, e, readN(t, e, open(t, e, "s", streamlog.ShardID(0), ""), len(a), 100), a)
	check(t, e, readN(t, e, open(t, e, "s", streamlog.ShardID(1), ""), len(bs), 100), bs)

	// Caught up: nothing more, at once.
	c := open(t, e, "s", streamlog.ShardID(1), "")
	readN(t, e, c, len(bs), 100)
	if b := next(t, c, 100, 0); len(b.Records) != 0 || b.MillisBehind != 0 || b.Trimmed {
		t.Errorf("Next at the end: %d records, MillisBehind %d, Trimmed %v; want none, 0, false", len(b.Records), b.MillisBehind, b.Trimmed)
	}
	// An empty shard.
	st2 := createStream(t, e, "empty", 1)
	c = open(t, e, "empty", st2.Shards()[0].ID(), "")
	if b := next(t, c, 10, 0); len(b.Records) != 0 {
		t.Errorf("Next on an empty shard returned %d records", len(b.Records))
	}
}

func testResume(t *testing.T, e Env) {
	st := createStream(t, e, "s", 3)
	sh := st.Shards()[2]
	all := appendN(t, sh, 10, small("r"))
	for _, k := range []int{0, 4, 8} {
		c := open(t, e, "s", sh.ID(), all[k].seq)
		check(t, e, readN(t, e, c, len(all)-k-1, 100), all[k+1:])
	}
	// After the last record: nothing until something new comes.
	c := open(t, e, "s", sh.ID(), all[9].seq)
	if b := next(t, c, 100, 0); len(b.Records) != 0 {
		t.Errorf("Next after the last record returned %d records", len(b.Records))
	}
	more := appendN(t, sh, 2, small("more"))
	check(t, e, readN(t, e, c, 2, 100), more)
	// Reopening after the last record of a batch continues exactly there.
	c = open(t, e, "s", sh.ID(), "")
	first := readN(t, e, c, 3, 3)
	c2 := open(t, e, "s", sh.ID(), first[2].seq)
	check(t, e, readN(t, e, c2, 9, 100), append(all[3:], more...))
}

func testBatching(t *testing.T, e Env) {
	st := createStream(t, e, "s", 1)
	sh := st.Shards()[0]
	all := appendN(t, sh, 10, small("b"))
	c := open(t, e, "s", sh.ID(), "")
	var got []want
	for _, n := range []int{3, 3, 3, 1} {
		b := next(t, c, 3, time.Second)
		if len(b.Records) != n {
			t.Fatalf("Next(max 3) returned %d records, want %d", len(b.Records), n)
		}
		for _, r := range b.Records {
			got = append(got, want{seq: strings.Clone(r.Seq), arrival: r.Arrival, pk: string(r.PartitionKey), data: bytes.Clone(r.Data)})
		}
	}
	check(t, e, got, all)
	c = open(t, e, "s", sh.ID(), "")
	check(t, e, readN(t, e, c, 10, 1), all)
}

func testWait(t *testing.T, e Env) {
	st := createStream(t, e, "s", 1)
	sh := st.Shards()[0]
	c := open(t, e, "s", sh.ID(), "")

	// Nothing comes: an empty batch, no sooner than the wait.
	if b := next(t, c, 10, 0); len(b.Records) != 0 {
		t.Fatalf("Next(wait 0) on an empty shard returned %d records", len(b.Records))
	}
	const wait = 300 * time.Millisecond
	start := time.Now()
	if b := next(t, c, 10, wait); len(b.Records) != 0 {
		t.Fatalf("Next(wait %v) on an empty shard returned %d records", wait, len(b.Records))
	}
	if d := time.Since(start); d < wait {
		t.Errorf("Next(wait %v) on an empty shard returned after %v", wait, d)
	}

	// A record appended during the wait is returned.
	var (
		wg  sync.WaitGroup
		got []want
	)
	wg.Go(func() {
		time.Sleep(50 * time.Millisecond)
		got = appendN(t, sh, 1, small("w"))
	})
	b := next(t, c, 10, 10*time.Second)
	wg.Wait()
	if len(b.Records) != 1 {
		t.Fatalf("Next(wait) returned %d records, want the 1 appended during the wait", len(b.Records))
	}
	check(t, e, []want{{seq: b.Records[0].Seq, arrival: b.Records[0].Arrival, pk: string(b.Records[0].PartitionKey), data: b.Records[0].Data}}, got)
}

func testMillisBehind(t *testing.T, e Env) {
	st := createStream(t, e, "s", 1)
	sh := st.Shards()[0]
	all := appendN(t, sh, 5, small("m"))
	for time.Now().UnixMilli() < all[4].arrival+20 {
		time.Sleep(time.Millisecond)
	}
	c := open(t, e, "s", sh.ID(), "")
	if b := next(t, c, 2, time.Second); len(b.Records) != 2 || b.MillisBehind <= 0 {
		t.Errorf("Next(max 2) of 5 records: %d records, MillisBehind %d; want 2 and > 0", len(b.Records), b.MillisBehind)
	}
	got := 2
	for got < 5 {
		b := next(t, c, 10, time.Second)
		got += len(b.Records)
		if got == 5 && b.MillisBehind != 0 {
			t.Errorf("the batch reaching the newest record has MillisBehind %d, want 0", b.MillisBehind)
		}
	}
	if b := next(t, c, 10, 0); b.MillisBehind != 0 {
		t.Errorf("caught up: MillisBehind %d, want 0", b.MillisBehind)
	}
}

func testNotFound(t *testing.T, e Env) {
	st := createStream(t, e, "s", 2)
	ctx := context.Background()
	if _, err := e.Reader.Describe(ctx, "missing"); !errors.Is(err, stream.ErrStreamNotFound) {
		t.Errorf("Describe(missing): %v, want ErrStreamNotFound", err)
	}
	if _, err := e.Reader.Open(ctx, "missing", streamlog.ShardID(0), ""); !errors.Is(err, stream.ErrStreamNotFound) {
		t.Errorf("Open(missing stream): %v, want ErrStreamNotFound", err)
	}
	if _, err := e.Reader.Open(ctx, "s", streamlog.ShardID(2), ""); !errors.Is(err, stream.ErrShardNotFound) {
		t.Errorf("Open(missing shard): %v, want ErrShardNotFound", err)
	}
	all := appendN(t, st.Shards()[0], 1, small("n"))
	if _, err := e.Reader.Open(ctx, "missing", streamlog.ShardID(0), all[0].seq); !errors.Is(err, stream.ErrStreamNotFound) {
		t.Errorf("Open(missing stream, after a seq): %v, want ErrStreamNotFound", err)
	}
}

func testBadSequence(t *testing.T, e Env) {
	st := createStream(t, e, "s", 2)
	other := appendN(t, st.Shards()[1], 1, small("other"))
	ctx := context.Background()
	f := func(after string) {
		t.Helper()
		c, err := e.Reader.Open(ctx, "s", streamlog.ShardID(0), after)
		if !errors.Is(err, stream.ErrBadSequence) {
			t.Errorf("Open after %q: %v, want ErrBadSequence", after, err)
		}
		if c != nil {
			c.Close()
		}
	}
	f(other[0].seq) // another shard's
	f("49" + strings.Repeat("0", 54))
	f("12345")
}

func testLargeRecords(t *testing.T, e Env) {
	st := createStream(t, e, "s", 1)
	sh := st.Shards()[0]
	rng := rand.New(rand.NewPCG(1, 2))
	all := appendN(t, sh, 7, func(i int) (string, []byte) {
		pk := fmt.Sprintf("large-%d", i)
		n := 1<<20 - len(pk)
		if i%3 == 1 {
			n = rng.IntN(1 << 20)
		}
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		return pk, data
	})
	check(t, e, readN(t, e, open(t, e, "s", sh.ID(), ""), len(all), 10000), all)
}

func testManySmall(t *testing.T, e Env) {
	st := createStream(t, e, "s", 1)
	sh := st.Shards()[0]
	rng := rand.New(rand.NewPCG(3, 4))
	all := appendN(t, sh, 50000, func(i int) (string, []byte) {
		data := make([]byte, rng.IntN(200))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		return fmt.Sprintf("tenant-%d", rng.IntN(1000)), data
	})
	check(t, e, readN(t, e, open(t, e, "s", sh.ID(), ""), len(all), 10000), all)
}

func testConcurrentShards(t *testing.T, e Env) {
	const shards, per = 4, 3000
	st := createStream(t, e, "s", shards)
	var wg sync.WaitGroup
	for i, sh := range st.Shards() {
		c := open(t, e, "s", sh.ID(), "")
		exp := make(chan []want, 1)
		wg.Go(func() { // the writer, appending while the reader reads
			var all []want
			for k := range 10 {
				all = append(all, appendN(t, sh, per/10, small(fmt.Sprintf("shard%d-%d", i, k)))...)
			}
			exp <- all
		})
		wg.Go(func() {
			got := readN(t, e, c, per, 1000)
			check(t, e, got, <-exp)
		})
	}
	wg.Wait()
}

func testRetention(t *testing.T, e Env) {
	if e.Advance == nil {
		t.Skip("the backend's store has no controllable clock")
	}
	st := createStream(t, e, "s", 1)
	sh := st.Shards()[0]
	old := appendN(t, sh, 5, small("old"))
	behind := open(t, e, "s", sh.ID(), old[1].seq)   // will lose old[2:]
	caught := open(t, e, "s", sh.ID(), old[4].seq)   // loses nothing
	readN(t, e, open(t, e, "s", sh.ID(), ""), 5, 10) // all there
	e.Advance(25 * time.Hour)                        // past the 24 h retention
	fresh := appendN(t, sh, 3, small("fresh"))

	f := func(name string, c stream.Cursor, trimmed bool) {
		t.Helper()
		var got []want
		sawTrim := false
		for empty := 0; len(got) < len(fresh) && empty < 20; {
			b := next(t, c, 100, 500*time.Millisecond)
			if b.Trimmed {
				if !trimmed || !e.ReportsTrimmed {
					t.Errorf("%s: Trimmed set, want it unset", name)
				}
				if len(got) > 0 {
					t.Errorf("%s: Trimmed set after the first records", name)
				}
				sawTrim = true
			}
			if len(b.Records) == 0 {
				empty++
			}
			for _, r := range b.Records {
				got = append(got, want{seq: strings.Clone(r.Seq), arrival: r.Arrival, pk: string(r.PartitionKey), data: bytes.Clone(r.Data)})
			}
		}
		if trimmed && e.ReportsTrimmed && !sawTrim {
			t.Errorf("%s: expired records were skipped without Trimmed", name)
		}
		check(t, e, got, fresh)
	}
	f("a cursor behind the expired records", behind, true)
	f("a caught-up cursor", caught, false)
	f("a TRIM_HORIZON cursor opened after expiry", open(t, e, "s", sh.ID(), ""), false)
	f("a cursor opened after an expired record", open(t, e, "s", sh.ID(), old[0].seq), true)
}

func testCancelAndClose(t *testing.T, e Env) {
	st := createStream(t, e, "s", 1)
	c := open(t, e, "s", st.Shards()[0].ID(), "")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := c.Next(ctx, 10, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a context cancelled during the wait: %v, want context.Canceled", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := c.Next(context.Background(), 10, 0); !errors.Is(err, stream.ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
}
