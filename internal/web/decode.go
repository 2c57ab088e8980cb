package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/insieme"
)

// maxJSONBody is the largest JSON body an API request may carry.
const maxJSONBody = 64 << 10

// decode reads a JSON body strictly into dst: malformed JSON, wrong types, unknown fields,
// trailing data and oversized bodies are EINVALID with a code per field, so nothing is written.
func decode(c *fiber.Ctx, dst any) error {
	body := c.Body()
	if len(body) > maxJSONBody {
		return &insieme.Error{Code: insieme.EINVALID, Message: "The request is too large.",
			Fields: map[string]string{"body": insieme.FTooLong}, Limits: map[string]int{"body": maxJSONBody}}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &insieme.Error{Code: insieme.EINVALID, Message: "The request is not valid JSON.", Fields: map[string]string{"body": insieme.FMalformedJSON}}
	}
	return nil
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return &insieme.Error{Code: insieme.EINVALID, Message: "A field has the wrong type.", Fields: map[string]string{field: insieme.FInvalidType}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &insieme.Error{Code: insieme.EINVALID, Message: "The request has an unknown field.", Fields: map[string]string{name: insieme.FUnknownField}}
	}
	return &insieme.Error{Code: insieme.EINVALID, Message: "The request is not valid JSON.", Fields: map[string]string{"body": insieme.FMalformedJSON}}
}

func fieldRequired(field string) error { return insieme.FieldError(field, insieme.FRequired) }

func fieldUnknown(field string) error { return insieme.FieldError(field, insieme.FUnknownField) }

func invalidValue(field string) error { return insieme.FieldError(field, insieme.FInvalidValue) }

// strictJSON decodes a nested object refusing unknown fields (for custom field types).
func strictJSON(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}
