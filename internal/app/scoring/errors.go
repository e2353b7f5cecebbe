package scoring

import (
	"net/http"
	"strconv"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

// SageMaker runtime error types, as the x-amzn-ErrorType header names them
// (before the colon) and aws-sdk-go-v2's sagemakerruntime/types decodes
// them. The SageMaker runtime speaks restJson1, not the AWS JSON 1.1 of
// Kinesis, so its errors are written here rather than by awswire.
const (
	ErrValidation      = "ValidationError"
	ErrModel           = "ModelError"
	ErrInternalFailure = "InternalFailure"
	// ErrServiceUnavailable (503) is the retriable error InvokeEndpoint
	// models; written when a body is past the in-flight memory budget,
	// and the SDKs retry it with backoff.
	ErrServiceUnavailable = "ServiceUnavailable"
)

// smError is one row of the SageMaker runtime's error table: the HTTP
// status and the namespace the real service appends to the type in
// x-amzn-ErrorType.
type smError struct {
	status int
	header string // the full x-amzn-ErrorType value
}

// smErrors is the one table of the SageMaker runtime errors this package
// writes.
var smErrors = map[string]smError{
	ErrValidation:         {http.StatusBadRequest, ErrValidation + ":http://internal.amazon.com/coral/com.amazon.coral.validate/"},
	ErrModel:              {http.StatusFailedDependency, ErrModel + ":http://internal.amazon.com/coral/com.amazon.sagemaker.runtime/"},
	ErrInternalFailure:    {http.StatusInternalServerError, ErrInternalFailure + ":http://internal.amazon.com/coral/com.amazon.coral.service/"},
	ErrServiceUnavailable: {http.StatusServiceUnavailable, ErrServiceUnavailable + ":http://internal.amazon.com/coral/com.amazon.coral.service/"},
}

var (
	ctJSON      = []string{"application/json"}
	ctJSONLines = []string{"application/jsonlines"}
	allTraffic  = []string{"AllTraffic"}
)

// writeSMError writes a SageMaker runtime error: {"message": msg} with the
// type in x-amzn-ErrorType.
func writeSMError(w http.ResponseWriter, typ, msg string) {
	b := make([]byte, 0, 32+len(msg))
	b = append(b, `{"message":`...)
	b = awswire.AppendString(b, msg)
	b = append(b, '}')
	writeSMBody(w, typ, b)
}

// modelError is a ModelError: the model's container answered
// OriginalStatusCode with OriginalMessage.
type modelError struct {
	status   int
	original string
}

// writeModelError writes a ModelError the way SageMaker reports a model
// container's 4xx: the container's status and message as
// OriginalStatusCode and OriginalMessage, a message quoting it, and the
// log stream the real service would point at.
func (s *Service) writeModelError(w http.ResponseWriter, endpoint string, e modelError) {
	group := "/aws/sagemaker/Endpoints/" + endpoint
	kind := "client"
	if e.status >= 500 {
		kind = "server"
	}
	msg := "Received " + kind + " error (" + strconv.Itoa(e.status) + ") from primary with message \"" + e.original +
		"\". See https://" + s.opts.Region + ".console.aws.amazon.com/cloudwatch/home?region=" + s.opts.Region +
		"#logEventViewer:group=" + group + " in account " + s.opts.Account + " for more information."
	b := make([]byte, 0, 128+2*len(msg))
	b = append(b, `{"LogStreamArn":`...)
	b = awswire.AppendString(b, "arn:aws:logs:"+s.opts.Region+":"+s.opts.Account+":log-group:"+group)
	b = append(b, `,"OriginalMessage":`...)
	b = awswire.AppendString(b, e.original)
	b = append(b, `,"OriginalStatusCode":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"message":`...)
	b = awswire.AppendString(b, msg)
	b = append(b, '}')
	writeSMBody(w, ErrModel, b)
}

func writeSMBody(w http.ResponseWriter, typ string, body []byte) {
	e, ok := smErrors[typ]
	if !ok {
		panic("BUG: unknown SageMaker error type " + typ)
	}
	h := w.Header()
	h["Content-Type"] = ctJSON
	h["X-Amzn-Errortype"] = []string{e.header}
	h["X-Amzn-Requestid"] = []string{awswire.NewRequestID()}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(e.status)
	w.Write(body)
}
