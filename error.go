package facereg

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the API: clients switch on them, so they never
// change once released. Image and face quality codes are in reason.go.
const (
	EINVALID         = "INVALID_REQUEST"      // malformed request body or parameter
	EUNAUTHORIZED    = "UNAUTHORIZED"         // missing, unknown or revoked API key
	ENOTFOUND        = "NOT_FOUND"            // no such object for this tenant
	EALREADY         = "ALREADY_REGISTERED"   // external id already has a registration
	EDUPLICATE       = "DUPLICATE_FACE"       // face already registered under another external id
	EMODELMISMATCH   = "MODEL_MISMATCH"       // templates made by different models
	ERATELIMITED     = "RATE_LIMITED"         // tenant request rate exceeded
	ELOCKED          = "LOCKED_OUT"           // too many failed attempts for one external id
	EOVERLOADED      = "OVERLOADED"           // server at its bound of concurrent analyses
	ETOOLARGE        = "REQUEST_TOO_LARGE"    // request body above the limit
	EIDEMPOTENCY     = "IDEMPOTENCY_CONFLICT" // Idempotency-Key reused with another request
	ENOTIMPLEMENTED  = "NOT_IMPLEMENTED"      // feature not available
	EINTERNAL        = "INTERNAL"             // a bug or an operational failure; details are logged, not returned
	EUNAVAILABLE     = "UNAVAILABLE"          // models not loaded or database unreachable
	ENOTSUPPORTEDDOC = "DOCUMENT_NOT_SUPPORTED"
)

// Error is the one error type that crosses package boundaries with a code a
// client may see. Message is safe to show to a client: it never contains
// images, templates, keys or internal error text.
type Error struct {
	Code    string
	Message string
	// Measure carries the measured value and threshold of a failed check.
	Measure *Measure
	// Detail carries structured facts for the client (for DUPLICATE_FACE: the
	// other registration's key and the similarity).
	Detail map[string]any
}

// Measure is one quality or liveness measurement against its threshold.
type Measure struct {
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Unit says what Value counts ("px", "deg", "score", "ratio"...).
	Unit string `json:"unit,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of err. Internal errors get a
// generic text so that their details never reach a client.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
