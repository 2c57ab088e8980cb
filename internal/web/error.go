package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/insieme"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	insieme.EINVALID:      fiber.StatusBadRequest,
	insieme.EUNAUTHORIZED: fiber.StatusUnauthorized,
	insieme.EFORBIDDEN:    fiber.StatusForbidden,
	insieme.ENOTFOUND:     fiber.StatusNotFound,
	insieme.ECONFLICT:     fiber.StatusConflict,
	insieme.ETOOMANY:      fiber.StatusTooManyRequests,
	insieme.EUNAVAILABLE:  fiber.StatusServiceUnavailable,
	insieme.EINTERNAL:     fiber.StatusInternalServerError,
}

type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	Limits  map[string]int    `json:"limits,omitempty"`
}

// fiberErrors turns fiber's own errors (unknown route, body too large, wrong method) into
// domain errors, so every error has the same shape.
func fromFiber(fe *fiber.Error) *insieme.Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return insieme.Errorf(insieme.ENOTFOUND, "Not found.")
	case fiber.StatusMethodNotAllowed:
		return insieme.Errorf(insieme.ENOTFOUND, "Not found.")
	case fiber.StatusRequestEntityTooLarge:
		return &insieme.Error{Code: insieme.EINVALID, Message: "The request is too large.", Fields: map[string]string{"body": insieme.FTooLong}}
	case fiber.StatusTooManyRequests:
		return insieme.Errorf(insieme.ETOOMANY, "Too many requests; try again shortly.")
	case fiber.StatusForbidden:
		return insieme.Errorf(insieme.EFORBIDDEN, "Forbidden.")
	case fiber.StatusBadRequest, fiber.StatusUpgradeRequired:
		return insieme.Errorf(insieme.EINVALID, "Bad request.")
	}
	return insieme.Errorf(insieme.EINTERNAL, "Internal error.")
}

// errorHandler writes every error as {"error": {...}} with the status of its code. Internal
// errors are logged with the request id; the client gets a generic message.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var e *insieme.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &fe):
		e = fromFiber(fe)
	default:
		s.log.Error("internal error", "request", requestID(c), "route", routeOf(c), "err", err)
		e = insieme.Errorf(insieme.EINTERNAL, "Internal error.")
	}
	if e.Code == insieme.EUNAVAILABLE {
		s.log.Warn("unavailable", "request", requestID(c), "route", routeOf(c), "err", err)
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	if e.Code == insieme.ETOOMANY && c.GetRespHeader(fiber.HeaderRetryAfter) == "" {
		retry := e.RetryAfter
		if retry <= 0 {
			retry = 60
		}
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retry))
	}
	return c.Status(status).JSON(errorBody{Error: errorPayload{Code: e.Code, Message: e.Message, Fields: e.Fields, Limits: e.Limits}})
}

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals("requestid").(string); ok {
		return v
	}
	return ""
}

func routeOf(c *fiber.Ctx) string {
	if r := c.Route(); r != nil {
		return r.Path
	}
	return ""
}
