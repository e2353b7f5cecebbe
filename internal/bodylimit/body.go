package bodylimit

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"
)

// ErrTooLarge is returned by ReadAll when the body is longer than its limit.
var ErrTooLarge = errors.New("the request body is larger than the limit")

// Chunk sizes: what does not fit in the caller's buffer is read into
// chunks of 4 KiB doubling to 64 KiB, so a body holds about what it has
// received, and a stalled one leaves no garbage behind.
const (
	minChunk = 4 << 10
	maxChunk = 64 << 10
)

// freeChunks keeps at most 4 MiB of 64 KiB chunks for the next bodies:
// bounded, so an attack's chunks do not outlive it.
var freeChunks = make(chan []byte, 64)

func newChunk(size int) []byte {
	if size == maxChunk {
		select {
		case c := <-freeChunks:
			return c[:0]
		default:
		}
	}
	return make([]byte, 0, size)
}

func freeChunk(c []byte) {
	if cap(c) == maxChunk {
		select {
		case freeChunks <- c:
		default:
		}
	}
}

// ReadAll appends r's bytes to buf until EOF and returns the grown buffer.
// What fits in buf's capacity is read there; the rest goes into chunks as
// it arrives and is copied into one buffer of the exact size at EOF, so
// memory grows with the bytes received, never with a length the client
// declared. After more than limit bytes it stops with ErrTooLarge. On an
// error the returned buffer holds only a prefix of what was read; other
// errors are r's, as they are.
func ReadAll(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	start := len(buf)
	var chunks [][]byte
	var inChunks int64
	defer func() {
		for _, c := range chunks {
			freeChunk(c)
		}
	}()
	for {
		got := int64(len(buf)-start) + inChunks
		if got > limit {
			return buf, ErrTooLarge
		}
		var room []byte
		if chunks == nil && len(buf) < cap(buf) {
			room = buf[len(buf):cap(buf)]
		} else {
			if len(chunks) == 0 || len(chunks[len(chunks)-1]) == cap(chunks[len(chunks)-1]) {
				size := minChunk
				if len(chunks) > 0 {
					size = min(2*cap(chunks[len(chunks)-1]), maxChunk)
				}
				chunks = append(chunks, newChunk(size))
			}
			c := chunks[len(chunks)-1]
			room = c[len(c):cap(c)]
		}
		if rest := limit + 1 - got; int64(len(room)) > rest {
			room = room[:rest]
		}
		n, err := r.Read(room)
		if chunks == nil {
			buf = buf[:len(buf)+n]
		} else {
			c := &chunks[len(chunks)-1]
			*c = (*c)[:len(*c)+n]
			inChunks += int64(n)
		}
		if err == io.EOF {
			if int64(len(buf)-start)+inChunks > limit {
				return buf, ErrTooLarge
			}
			if chunks != nil {
				buf = slices.Grow(buf, int(inChunks))
				for _, c := range chunks {
					buf = append(buf, c...)
				}
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Body is a request body that reserves every byte it returns from a
// Budget and reports a missed read deadline as ErrTimeout. Release gives
// the reserved bytes back; the zero Body is not usable, see Reset.
type Body struct {
	rc       io.ReadCloser
	budget   *Budget
	timeout  time.Duration
	deadline *http.ResponseController // cleared at EOF; nil: none
	held     int64
	err      error
}

// Reset makes b read rc, reserving from budget (nil: no budget); timeout
// is the body timeout the messages name.
func (b *Body) Reset(rc io.ReadCloser, budget *Budget, timeout time.Duration) {
	*b = Body{rc: rc, budget: budget, timeout: timeout}
}

// Read reads from the body. When the budget is already spent before the
// first byte, or the bytes read do not fit, it returns ErrBusy (and keeps
// returning it); a read past the deadline returns an error wrapping
// ErrTimeout.
func (b *Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.held == 0 && b.budget != nil && b.budget.opts.Max > 0 && b.budget.InUse() >= b.budget.opts.Max {
		b.budget.refused.Add(1)
		b.err = ErrBusy
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	if n > 0 && b.budget != nil {
		if !b.budget.Acquire(int64(n)) {
			b.err = ErrBusy
			return 0, b.err
		}
		b.held += int64(n)
	}
	switch {
	case err == nil:
	case err == io.EOF:
		if b.deadline != nil {
			b.deadline.SetReadDeadline(time.Time{}) // the handler may take its time now
			b.deadline = nil
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.err = fmt.Errorf("%w (%s): %v", ErrTimeout, b.timeout, err)
		err = b.err
	default:
		b.err = err
	}
	return n, err
}

// Reserve charges n more bytes to b's reservation (bytes the handler
// holds because of the body, e.g. its decompressed form), released with
// the body's; ErrBusy (sticky) when they do not fit.
func (b *Body) Reserve(n int64) error {
	if b.err != nil {
		return b.err
	}
	if b.budget != nil {
		if !b.budget.Acquire(n) {
			b.err = ErrBusy
			return b.err
		}
		b.held += n
	}
	return nil
}

// Decoded returns dec, a reader of body's decoded bytes (gunzipped, ...),
// charging what it returns to body's reservation when body is a *Body, so
// a small compressed body cannot hold a large buffer outside the budget.
func Decoded(body io.Reader, dec io.Reader) io.Reader {
	b, ok := body.(*Body)
	if !ok {
		return dec
	}
	return &decoded{dec: dec, b: b}
}

type decoded struct {
	dec io.Reader
	b   *Body
}

func (d *decoded) Read(p []byte) (int, error) {
	n, err := d.dec.Read(p)
	if n > 0 {
		if rerr := d.b.Reserve(int64(n)); rerr != nil {
			return 0, rerr
		}
	}
	return n, err
}

// Err is the error that stopped the body (ErrBusy, a timeout or the
// connection's), nil while it reads well or after EOF.
func (b *Body) Err() error { return b.err }

// Close closes the underlying body.
func (b *Body) Close() error { return b.rc.Close() }

// Release gives the bytes read back to the budget.
func (b *Body) Release() {
	if b.budget != nil && b.held > 0 {
		b.budget.Release(b.held)
	}
	b.held = 0
}

// HandlerOptions configure Handler.
type HandlerOptions struct {
	Budget  *Budget       // nil: no budget
	Timeout time.Duration // a body's read deadline from the start of its handler; 0: none
}

// Handler serves next with every request body read through a Body: the
// bytes reserved from opts.Budget until next returns, and a read deadline
// opts.Timeout from now (http.ResponseController, so on HTTP/1 and on each
// HTTP/2 stream alike), cleared once the body is read whole.
func Handler(next http.Handler, opts HandlerOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		b := &Body{}
		b.Reset(r.Body, opts.Budget, opts.Timeout)
		if opts.Timeout > 0 {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(opts.Timeout)) == nil {
				b.deadline = rc
			}
		}
		defer b.Release()
		r.Body = b
		next.ServeHTTP(w, r)
	})
}
