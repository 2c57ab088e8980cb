package web

import (
	"encoding/json"
	"reflect"
	"time"
)

// optTime is a JSON field that may be absent (unchanged), null (cleared) or a time.
type optTime struct {
	set bool
	val *time.Time
}

func (o *optTime) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.val = nil
		return nil
	}
	var t time.Time
	if err := json.Unmarshal(b, &t); err != nil {
		// A type error names the field in the answer (decode fills in the field).
		return &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeOf(t)}
	}
	t = t.UTC()
	o.val = &t
	return nil
}

// ptr returns nil when absent, else a pointer to the (possibly nil) time.
func (o optTime) ptr() **time.Time {
	if !o.set {
		return nil
	}
	v := o.val
	return &v
}
