package insieme

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in internal/web/error.go and is sent to clients,
// whose catalogues translate it; never send a driver message or a stack trace instead.
const (
	EINVALID      = "invalid"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	ETOOMANY      = "too_many"
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// Field codes name what is wrong with one field; clients translate them (fields.<code>).
const (
	FRequired        = "required"
	FTooShort        = "too_short"
	FTooLong         = "too_long"
	FInvalidEmail    = "invalid_email"
	FInvalidLanguage = "invalid_language"
	FInvalidValue    = "invalid_value"
	FInvalidType     = "invalid_type"
	FUnknownField    = "unknown_field"
	FMalformedJSON   = "malformed_json"
	FTaken           = "taken"
	FWrongPassword   = "wrong_password"
)

// Error is an error a user may see: a code, an English message (clients show their own
// translation of the code), and per-field codes and limits for invalid input.
type Error struct {
	Code       string
	Message    string
	Fields     map[string]string
	Limits     map[string]int
	RetryAfter int // seconds, for ETOOMANY
}

func (e *Error) Error() string {
	return fmt.Sprintf("insieme error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, EINTERNAL for any other error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message; other errors get a generic one.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Invalid collects field problems; Err returns nil when there are none.
type Invalid struct {
	fields map[string]string
	limits map[string]int
}

// Add records a problem with a field (the first problem of a field wins).
func (v *Invalid) Add(field, code string) {
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, ok := v.fields[field]; !ok {
		v.fields[field] = code
	}
}

// Limit records a limit to show with the field's problem.
func (v *Invalid) Limit(field string, n int) {
	if v.limits == nil {
		v.limits = map[string]int{}
	}
	v.limits[field] = n
}

// Err returns the collected problems as an EINVALID error, or nil.
func (v *Invalid) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "Some fields are not valid.", Fields: v.fields, Limits: v.limits}
}

// FieldError is a shorthand for one invalid field.
func FieldError(field, code string) error {
	var v Invalid
	v.Add(field, code)
	return v.Err()
}
