package scoring

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
)

// Behavior: InvokeEndpoint, POST /endpoints/{EndpointName}/invocations, as
// the SageMaker runtime serves a linear learner binary classifier:
//   - The body is text/csv (parameters charset=utf-8, label_size=0 and
//     header=absent are accepted): one row per line, each the encoded
//     vector of the endpoint's model, numbers only, no label, in the
//     model's column order (GET /v1/models/{name}). Blank lines are
//     skipped; row numbers in messages are line numbers.
//   - Accept application/json (also when missing, */* or application/*)
//     answers {"predictions":[{"score":S,"predicted_label":L},...]};
//     application/jsonlines (or application/x-jsonlines) one
//     {"score":S,"predicted_label":L} per line. predicted_label is 1 when
//     score >= the model's threshold. x-Amzn-Invoked-Production-Variant
//     is AllTraffic.
//   - ValidationError (400): no such endpoint ("Endpoint NAME of account
//     ACCOUNT not found."), an empty body, a body over 6 MB (6291456
//     bytes), a Content-Type or Accept the model does not take. The real
//     service reports the last two as a ModelError from the container.
//   - ModelError (424, OriginalStatusCode 400): a row with the wrong
//     number of columns, or a value that is not a finite number, named by
//     row and column. Nothing is scored when any row is bad.
//   - Not supported: CustomAttributes, TargetModel, TargetVariant,
//     InferenceId and the other optional headers are ignored; there is no
//     SigV4 check.

// maxBody is InvokeEndpoint's limit on the request body.
const maxBody = 6 << 20

// keepBuf is the largest buffer returned to the pool; a rare big request
// does not pin its memory.
const keepBuf = 1 << 20

type invokeBuf struct {
	body []byte
	x    []float64
	out  []byte
}

var invokePool = sync.Pool{New: func() any {
	return &invokeBuf{body: make([]byte, 0, 4096), x: make([]float64, 0, 64), out: make([]byte, 0, 256)}
}}

// Response formats.
const (
	formatJSON = iota
	formatJSONLines
	formatNone
)

func (s *Service) invoke(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := r.PathValue("name")
	ep := s.endpoints.Get(name)
	if ep == nil {
		s.metrics.unknown.validation.Inc()
		writeSMError(w, ErrValidation, "Endpoint "+name+" of account "+s.opts.Account+" not found.")
		return
	}
	met := ep.metrics
	defer func() { met.latency.Observe(time.Since(start).Seconds()) }()

	if msg := checkContentType(r.Header.Get("Content-Type")); msg != "" {
		met.validation.Inc()
		writeSMError(w, ErrValidation, msg)
		return
	}
	format := acceptFormat(r.Header.Get("Accept"))
	if format == formatNone {
		met.validation.Inc()
		writeSMError(w, ErrValidation, "Accept "+strconv.Quote(r.Header.Get("Accept"))+
			" is not supported; the model answers application/json or application/jsonlines")
		return
	}

	buf := invokePool.Get().(*invokeBuf)
	defer func() {
		if cap(buf.body) > keepBuf {
			buf.body = make([]byte, 0, 4096)
		}
		if cap(buf.x) > keepBuf/8 {
			buf.x = make([]float64, 0, 64)
		}
		if cap(buf.out) > keepBuf {
			buf.out = make([]byte, 0, 256)
		}
		invokePool.Put(buf)
	}()
	body, tooBig, err := readBody(r, buf.body[:0])
	buf.body = body
	switch {
	case tooBig:
		met.validation.Inc()
		writeSMError(w, ErrValidation, "1 validation error detected: Value at 'body' failed to satisfy constraint: "+
			"Member must have length less than or equal to 6291456; send fewer rows per request")
		return
	case errors.Is(err, bodylimit.ErrBusy):
		met.throttled.Inc()
		writeSMError(w, ErrServiceUnavailable, "The service is unavailable: the server is reading as many request bodies as its memory budget allows (--max-inflight-bytes); retry with backoff")
		return
	case err != nil:
		met.validation.Inc()
		writeSMError(w, ErrValidation, "cannot read the request body: "+err.Error())
		return
	case len(body) == 0:
		met.validation.Inc()
		writeSMError(w, ErrValidation, "1 validation error detected: Value at 'body' failed to satisfy constraint: "+
			"Member must not be null; send one CSV row of numbers per line")
		return
	}

	d := ep.cur.Load()
	m := d.Model
	width := len(m.Columns)
	x, rows, rerr := parseRows(buf.x[:0], body, width, d.bounds)
	buf.x = x
	if rerr != nil || rows == 0 {
		met.model.Inc()
		msg := noRowsMessage
		if rerr != nil {
			msg = rerr.message(d)
		}
		s.writeModelError(w, name, modelError{status: http.StatusBadRequest, original: msg})
		return
	}

	out := buf.out[:0]
	if format == formatJSON {
		out = append(out, `{"predictions":[`...)
	}
	for i := 0; i < rows; i++ {
		if i > 0 && format == formatJSON {
			out = append(out, ',')
		}
		p := predict(m, x[i*width:(i+1)*width])
		if !validScore(p.Score) {
			// Unreachable: the load check and the bounds keep scores
			// finite. Never answer NaN in a 200.
			met.model.Inc()
			s.log.Error("a model scored a non-finite number", "endpoint", name, "checksum", m.Checksum, "score", p.Score)
			writeSMError(w, ErrInternalFailure, "the model scored a number that is not finite for row "+strconv.Itoa(i+1)+"; this is a bug, please report it")
			return
		}
		out = appendPrediction(out, p)
		if format == formatJSONLines {
			out = append(out, '\n')
		}
	}
	if format == formatJSON {
		out = append(out, "]}"...)
	}
	buf.out = out

	h := w.Header()
	if format == formatJSON {
		h["Content-Type"] = ctJSON
	} else {
		h["Content-Type"] = ctJSONLines
	}
	h["X-Amzn-Invoked-Production-Variant"] = allTraffic
	h["X-Amzn-Requestid"] = []string{awswire.NewRequestID()}
	h["Content-Length"] = []string{strconv.Itoa(len(out))}
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	met.ok.Inc()
	met.rows.Add(float64(rows))
}

func appendPrediction(dst []byte, p Prediction) []byte {
	dst = append(dst, `{"score":`...)
	dst = strconv.AppendFloat(dst, p.Score, 'g', -1, 64)
	dst = append(dst, `,"predicted_label":`...)
	dst = strconv.AppendInt(dst, int64(p.PredictedLabel), 10)
	return append(dst, '}')
}

// readBody reads the request body into buf, up to maxBody bytes; the
// buffer grows with the bytes received (bodylimit.ReadAll).
func readBody(r *http.Request, buf []byte) (body []byte, tooBig bool, err error) {
	if r.ContentLength > maxBody {
		return buf, true, nil
	}
	buf, err = bodylimit.ReadAll(r.Body, buf, maxBody)
	if errors.Is(err, bodylimit.ErrTooLarge) {
		return buf, true, nil
	}
	return buf, false, err
}

// checkContentType returns why ct is not a CSV body the model takes, or "".
func checkContentType(ct string) string {
	mt, params, _ := strings.Cut(ct, ";")
	if !strings.EqualFold(strings.TrimSpace(mt), "text/csv") {
		if strings.TrimSpace(ct) == "" {
			return "the request has no Content-Type; send text/csv"
		}
		return "Content-Type " + strconv.Quote(ct) + " is not supported; the model takes text/csv: one row of numbers per line"
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
		switch {
		case k == "" && v == "":
		case strings.EqualFold(k, "charset") && (strings.EqualFold(v, "utf-8") || strings.EqualFold(v, "us-ascii")):
		case strings.EqualFold(k, "label_size") && v == "0":
		case strings.EqualFold(k, "header") && strings.EqualFold(v, "absent"):
		default:
			return "Content-Type parameter " + strconv.Quote(strings.TrimSpace(p)) +
				" is not supported; the model takes text/csv without a label or header (label_size=0, charset=utf-8)"
		}
	}
	return ""
}

// acceptFormat returns the response format of an Accept header: the first
// media range the model can answer.
func acceptFormat(accept string) int {
	if accept == "" {
		return formatJSON
	}
	for accept != "" {
		var mr string
		mr, accept, _ = strings.Cut(accept, ",")
		mt, _, _ := strings.Cut(mr, ";")
		mt = strings.TrimSpace(mt)
		switch {
		case strings.EqualFold(mt, "application/json"), mt == "*/*", strings.EqualFold(mt, "application/*"):
			return formatJSON
		case strings.EqualFold(mt, "application/jsonlines"), strings.EqualFold(mt, "application/x-jsonlines"):
			return formatJSONLines
		}
	}
	return formatNone
}
