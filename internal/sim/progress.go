package sim

import (
	"fmt"
	"strings"
	"time"
)

// reporter shows progress on o.Progress: a redrawn line on a terminal,
// a plain line every 10 s otherwise.
type reporter struct {
	r     *runner
	clock func() time.Time
	stopc chan struct{}
	done  chan struct{}
}

func newReporter(r *runner, clock func() time.Time) *reporter {
	rep := &reporter{r: r, clock: clock, stopc: make(chan struct{}), done: make(chan struct{})}
	if r.o.Progress == nil {
		close(rep.done)
		return rep
	}
	go rep.loop()
	return rep
}

func (rep *reporter) loop() {
	defer close(rep.done)
	every := 10 * time.Second
	if rep.r.o.Terminal {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := int64(0), time.Now()
	for {
		select {
		case <-rep.stopc:
			if rep.r.o.Terminal {
				fmt.Fprintf(rep.r.o.Progress, "\r%s\n", rep.line(last, lastAt))
			}
			return
		case <-t.C:
			line := rep.line(last, lastAt)
			last, lastAt = rep.r.sent.Load(), time.Now()
			if rep.r.o.Terminal {
				fmt.Fprintf(rep.r.o.Progress, "\r%s\x1b[K", line)
			} else {
				fmt.Fprintln(rep.r.o.Progress, line)
			}
		}
	}
}

// line renders: phase, events sent, recent rate, simulated time and, in
// the backfill, a bar.
func (rep *reporter) line(last int64, lastAt time.Time) string {
	r := rep.r
	sent := r.sent.Load()
	rate := float64(sent-last) / time.Since(lastAt).Seconds()
	sim := r.simTime.Load()
	phase := "live"
	var bar string
	if sim < r.live {
		phase = "backfill"
		start := r.start
		frac := 0.0
		if r.live > start && sim > 0 {
			frac = float64(sim-start) / float64(r.live-start)
		}
		const width = 24
		n := int(frac * width)
		bar = fmt.Sprintf(" [%s%s] %3.0f%%", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100)
	} else if sim > 0 {
		if lag := time.Duration(rep.clock().UnixNano() - sim); lag > time.Second {
			phase = fmt.Sprintf("catch-up, %s behind", lag.Round(time.Second))
		}
	}
	simStr := "-"
	if sim > 0 {
		simStr = time.Unix(0, sim).UTC().Format("2006-01-02 15:04:05")
	}
	return fmt.Sprintf("simulate %-8s %12d events %9.0f/s  sim time %s%s", phase, sent, rate, simStr, bar)
}

func (rep *reporter) stop() {
	select {
	case <-rep.stopc:
	default:
		close(rep.stopc)
	}
	<-rep.done
}
