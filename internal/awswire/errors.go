package awswire

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// AWS error types (the wire __type), one per row of errorTable.
const (
	ResourceNotFound              = "ResourceNotFoundException"
	ResourceInUse                 = "ResourceInUseException"
	InvalidArgument               = "InvalidArgumentException"
	Validation                    = "ValidationException"
	LimitExceeded                 = "LimitExceededException"
	ExpiredIterator               = "ExpiredIteratorException"
	ExpiredNextToken              = "ExpiredNextTokenException"
	ProvisionedThroughputExceeded = "ProvisionedThroughputExceededException"
	Serialization                 = "SerializationException"
	UnknownOperation              = "UnknownOperationException"
	AccessDenied                  = "AccessDeniedException"
	MissingAuthenticationToken    = "MissingAuthenticationTokenException"
	InternalFailure               = "InternalFailure"
	ServiceUnavailable            = "ServiceUnavailable"
	KMSThrottling                 = "KMSThrottlingException"
)

// errorClass is what the wire needs to know about an error type.
type errorClass struct {
	status    int
	retryable bool
}

// errorTable is the one place that maps every AWS error type to its HTTP
// status and retriability.
var errorTable = map[string]errorClass{
	ResourceNotFound:              {http.StatusBadRequest, false},
	ResourceInUse:                 {http.StatusBadRequest, false},
	InvalidArgument:               {http.StatusBadRequest, false},
	Validation:                    {http.StatusBadRequest, false},
	LimitExceeded:                 {http.StatusBadRequest, false},
	ExpiredIterator:               {http.StatusBadRequest, false},
	ExpiredNextToken:              {http.StatusBadRequest, false},
	ProvisionedThroughputExceeded: {http.StatusBadRequest, true},
	Serialization:                 {http.StatusBadRequest, false},
	UnknownOperation:              {http.StatusBadRequest, false},
	AccessDenied:                  {http.StatusBadRequest, false},
	MissingAuthenticationToken:    {http.StatusForbidden, false}, // for when SigV4 is checked
	InternalFailure:               {http.StatusInternalServerError, true},
	ServiceUnavailable:            {http.StatusServiceUnavailable, true},
	KMSThrottling:                 {http.StatusBadRequest, true},
}

// internalFailureMessage is what a client sees for an error that is not an
// *Error; the cause stays in the server's logs.
const internalFailureMessage = "The request processing has failed because of an unknown error, exception or failure."

// Error is an AWS API error: its wire __type, HTTP status, retriability and
// a message for the client.
type Error struct {
	Type      string // wire __type, e.g. "ResourceNotFoundException"
	Status    int    // HTTP status
	Retryable bool
	Message   string
}

// Error returns "Type: Message".
func (e *Error) Error() string {
	return e.Type + ": " + e.Message
}

// Errorf builds an *Error of type typ with a formatted message (format is used
// as is when there are no args). It panics if typ is not in the error table.
func Errorf(typ string, format string, args ...any) *Error {
	cl, ok := errorTable[typ]
	if !ok {
		panic(fmt.Sprintf("BUG: unknown AWS error type %q", typ))
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Type: typ, Status: cl.status, Retryable: cl.retryable, Message: msg}
}

// IsType reports whether err is, or wraps, an *Error of type typ.
func IsType(err error, typ string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == typ
}

// asWireError returns the *Error that err is or wraps, or a generic
// InternalFailure.
func asWireError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e != nil {
		if _, known := errorTable[e.Type]; known {
			return e
		}
	}
	return Errorf(InternalFailure, internalFailureMessage)
}

// WriteError writes err in codec c (the zero Codec writes JSON). An *Error
// (also when wrapped) is written with its table status; any other error
// becomes InternalFailure 500 with a generic message, so internals never
// reach the client. A retryable 503 also gets Retry-After: 1.
func WriteError(w http.ResponseWriter, c Codec, reqID string, err error) {
	e := asWireError(err)
	cl := errorTable[e.Type]
	var body []byte
	if c == CBOR {
		body = appendCBORError(make([]byte, 0, 32+len(e.Type)+len(e.Message)), e.Type, e.Message)
	} else {
		body = make([]byte, 0, 32+len(e.Type)+len(e.Message))
		body = append(body, `{"__type":`...)
		body = AppendString(body, e.Type)
		body = append(body, `,"message":`...)
		body = AppendString(body, e.Message)
		body = append(body, '}')
	}
	h := w.Header()
	setHeaders(h, c, reqID, len(body))
	h.Set("X-Amzn-ErrorType", e.Type)
	if cl.retryable && cl.status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(cl.status)
	_, _ = w.Write(body)
}

// WriteResponse writes a 200 response whose body is c.Marshal(v). If v
// cannot be marshaled it writes an InternalFailure instead.
func WriteResponse(w http.ResponseWriter, c Codec, reqID string, v any) {
	if c != CBOR {
		c = JSON
	}
	body, err := c.Marshal(v)
	if err != nil {
		WriteError(w, c, reqID, err)
		return
	}
	WriteRaw(w, c, reqID, body)
}

// WriteRaw writes a 200 response with a pre-encoded body, with
// Content-Type, x-amzn-RequestId and Content-Length set.
func WriteRaw(w http.ResponseWriter, c Codec, reqID string, body []byte) {
	setHeaders(w.Header(), c, reqID, len(body))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// Shared, immutable header values (len == cap, so an append by a later
// handler copies instead of writing into them).
var (
	contentTypeJSONValue = []string{ContentTypeJSON}
	contentTypeCBORValue = []string{ContentTypeCBOR}
)

func setHeaders(h http.Header, c Codec, reqID string, contentLength int) {
	if c == CBOR {
		h["Content-Type"] = contentTypeCBORValue
	} else {
		h["Content-Type"] = contentTypeJSONValue
	}
	h["X-Amzn-Requestid"] = []string{reqID}
	h["Content-Length"] = []string{strconv.Itoa(contentLength)}
}

// appendCBORError appends the CBOR map {"__type": typ, "message": msg}.
func appendCBORError(dst []byte, typ, msg string) []byte {
	dst = AppendCBORMapHeader(dst, 2)
	dst = AppendCBORText(dst, "__type")
	dst = AppendCBORText(dst, typ)
	dst = AppendCBORText(dst, "message")
	return AppendCBORText(dst, msg)
}
