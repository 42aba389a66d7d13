package service

import (
	"errors"

	"github.com/facereg/facereg"
)

// ErrorInfo is the JSON shape of an error for clients: the stable code, a
// client-safe message, the failed measurement and structured details.
// Internal errors become {"code":"INTERNAL","message":"internal error"}.
type ErrorInfo struct {
	Code    string           `json:"code"`
	Message string           `json:"message"`
	Measure *facereg.Measure `json:"measure,omitempty"`
	Detail  map[string]any   `json:"detail,omitempty"`
}

// ErrorInfoOf converts err for a client.
func ErrorInfoOf(err error) ErrorInfo {
	var fe *facereg.Error
	if errors.As(err, &fe) {
		return ErrorInfo{Code: fe.Code, Message: fe.Message, Measure: fe.Measure, Detail: fe.Detail}
	}
	return ErrorInfo{Code: facereg.ErrorCode(err), Message: facereg.ErrorMessage(err)}
}

// AsError turns the info back into an *facereg.Error (for task results read
// back from storage).
func (e ErrorInfo) AsError() *facereg.Error {
	return &facereg.Error{Code: e.Code, Message: e.Message, Measure: e.Measure, Detail: e.Detail}
}
