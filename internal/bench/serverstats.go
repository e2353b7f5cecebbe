package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// rssSampleInterval is how often a phase samples server RSS for its peak.
	rssSampleInterval = 200 * time.Millisecond
	metricsTimeout    = 2 * time.Second
	// defaultClockTicks is the Linux USER_HZ default, used when
	// /proc/self/auxv cannot be read.
	defaultClockTicks = 100
	atClkTck          = 17 // AT_CLKTCK in the ELF auxiliary vector
)

// serverSample is one reading of the server's resource usage.
type serverSample struct {
	cpu float64 // user+system CPU seconds since the process started
	rss int64   // resident set size, bytes
	hwm int64   // peak RSS since the process started, bytes; 0 if unknown
}

// statSource reads the server's resource usage.
type statSource interface {
	sample(ctx context.Context) (serverSample, error)
	describe() string
}

// serverMonitor measures server usage over benchmark phases. A nil monitor
// measures nothing.
type serverMonitor struct {
	src statSource
}

// newServerMonitor reads /proc/<pid> when pid is set (failing if it cannot)
// and otherwise tries <endpoint>/metrics, returning nil if that fails.
func newServerMonitor(ctx context.Context, endpoint string, pid int) (*serverMonitor, error) {
	if pid > 0 {
		src := &procSource{pid: pid, ticks: clockTicks()}
		if _, err := src.sample(ctx); err != nil {
			return nil, fmt.Errorf("cannot read server stats for --server-pid %d: %w", pid, err)
		}
		return &serverMonitor{src: src}, nil
	}
	src := &metricsSource{
		url: strings.TrimRight(endpoint, "/") + "/metrics",
		hc:  &http.Client{Timeout: metricsTimeout},
	}
	if _, err := src.sample(ctx); err != nil {
		return nil, nil
	}
	return &serverMonitor{src: src}, nil
}

// serverUsage is the server's usage over one phase.
type serverUsage struct {
	ok         bool
	cpuSeconds float64
	rss        int64 // at the end of the phase
	peakRSS    int64 // highest seen during the phase (VmHWM with /proc)
}

// phaseProbe measures one phase: begin, run the phase, end.
type phaseProbe struct {
	m      *serverMonitor
	before serverSample
	ok     bool
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	peak   int64
}

func (m *serverMonitor) begin(ctx context.Context) *phaseProbe {
	if m == nil {
		return nil
	}
	p := &phaseProbe{m: m, stop: make(chan struct{}), done: make(chan struct{})}
	s, err := m.src.sample(ctx)
	p.before, p.ok, p.peak = s, err == nil, s.rss
	go func() {
		defer close(p.done)
		t := time.NewTicker(rssSampleInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				if s, err := m.src.sample(ctx); err == nil {
					p.mu.Lock()
					p.peak = max(p.peak, s.rss)
					p.mu.Unlock()
				}
			}
		}
	}()
	return p
}

func (p *phaseProbe) end(ctx context.Context) serverUsage {
	if p == nil {
		return serverUsage{}
	}
	close(p.stop)
	<-p.done
	after, err := p.m.src.sample(ctx)
	if !p.ok || err != nil {
		return serverUsage{}
	}
	return serverUsage{
		ok:         true,
		cpuSeconds: max(0, after.cpu-p.before.cpu),
		rss:        after.rss,
		peakRSS:    max(p.peak, after.rss, after.hwm),
	}
}

// procSource reads /proc/<pid>/stat and /proc/<pid>/status (Linux).
type procSource struct {
	pid   int
	ticks float64 // clock ticks per second
}

func (s *procSource) describe() string { return fmt.Sprintf("/proc/%d", s.pid) }

func (s *procSource) sample(context.Context) (serverSample, error) {
	var out serverSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return out, err
	}
	ticks, err := parseProcStatCPU(stat)
	if err != nil {
		return out, err
	}
	out.cpu = float64(ticks) / s.ticks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return out, err
	}
	out.rss, out.hwm = parseProcStatusMem(status)
	return out, nil
}

// parseProcStatCPU returns utime+stime, in clock ticks, from /proc/<pid>/stat.
func parseProcStatCPU(stat []byte) (int64, error) {
	// The command name (field 2) may hold spaces and parentheses: the
	// remaining fields start after its last ')'. utime and stime are fields
	// 14 and 15, i.e. 11 and 12 after the state field (3).
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields after the command", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("malformed /proc stat: %w", err)
	}
	return utime + stime, nil
}

// parseProcStatusMem returns VmRSS and VmHWM in bytes from /proc/<pid>/status.
func parseProcStatusMem(status []byte) (rss, hwm int64) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// clockTicks returns USER_HZ from /proc/self/auxv (AT_CLKTCK), or 100.
func clockTicks() float64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return defaultClockTicks
	}
	if v := auxvValue(b, atClkTck, strconv.IntSize/8); v > 0 {
		return float64(v)
	}
	return defaultClockTicks
}

// auxvValue returns the value of auxiliary vector entry typ, or 0.
func auxvValue(b []byte, typ uint64, word int) uint64 {
	read := func(p []byte) uint64 {
		if word == 4 {
			return uint64(binary.NativeEndian.Uint32(p))
		}
		return binary.NativeEndian.Uint64(p)
	}
	for i := 0; i+2*word <= len(b); i += 2 * word {
		t := read(b[i:])
		if t == 0 {
			break
		}
		if t == typ {
			return read(b[i+word:])
		}
	}
	return 0
}

// metricsSource reads the Prometheus text exposition at url.
type metricsSource struct {
	url string
	hc  *http.Client
}

func (s *metricsSource) describe() string { return s.url }

func (s *metricsSource) sample(ctx context.Context) (serverSample, error) {
	var out serverSample
	ctx, cancel := context.WithTimeout(ctx, metricsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return out, err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return out, err
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("GET %s: HTTP %d", s.url, resp.StatusCode)
	}
	return parseMetrics(body)
}

// parseMetrics extracts process_cpu_seconds_total (required) and
// process_resident_memory_bytes from Prometheus text format.
func parseMetrics(body []byte) (serverSample, error) {
	var out serverSample
	haveCPU := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "{")
		switch name {
		case "process_cpu_seconds_total":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return out, fmt.Errorf("bad %s value %q", name, f[1])
			}
			out.cpu, haveCPU = v, true
		case "process_resident_memory_bytes":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return out, fmt.Errorf("bad %s value %q", name, f[1])
			}
			out.rss = int64(v)
		}
	}
	if !haveCPU {
		return out, errors.New("no process_cpu_seconds_total metric")
	}
	return out, nil
}
