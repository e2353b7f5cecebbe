// Package restapi owns the conventions of tenantpulse's own JSON API under
// /v1/: the error shape, {"error": "<Code>", "message": "<what to fix>"},
// and how responses are written. Services under internal/app use it so
// every /v1 endpoint answers alike; it knows nothing about any of them.
package restapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

// Error codes shared by the /v1 endpoints.
const (
	CodeMalformedJSON        = "MalformedJSON"
	CodePayloadTooLarge      = "PayloadTooLarge"
	CodeUnsupportedMediaType = "UnsupportedMediaType"
	CodeMethodNotAllowed     = "MethodNotAllowed"
	CodeInvalidRequest       = "InvalidRequest"
	CodeNotFound             = "NotFound"
	CodeLimitExceeded        = "LimitExceeded" // a configured limit; the message says which and how to raise it
	CodeUnavailable          = "ServiceUnavailable"
	CodeTooManyRequests      = "TooManyRequests" // 429: retry after a pause (Retry-After)
	CodeRequestTimeout       = "RequestTimeout"  // 408: the body did not arrive in time
	CodeInternal             = "InternalError"
)

// WriteError writes the /v1 error shape with the given status.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	b := make([]byte, 0, 64+len(message))
	b = append(b, `{"error":`...)
	b = awswire.AppendString(b, code)
	b = append(b, `,"message":`...)
	b = awswire.AppendString(b, message)
	b = append(b, "}\n"...)
	WriteRaw(w, status, b)
}

// WriteRaw writes body, which must be JSON, with the given status.
func WriteRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// WriteJSON encodes v as the response, for responses off the hot path.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, CodeInternal, "cannot encode the response: "+err.Error())
		return
	}
	WriteRaw(w, status, append(b, '\n'))
}
