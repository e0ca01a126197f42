package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/scim/compat"
	"github.com/scimbridge/scimbridge/scim/limit"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// Error is a SCIM error response (RFC 7644 §3.12). Its Detail is written
// for the client and never holds internal text.
type Error struct {
	Status   int
	ScimType string
	Detail   string
	// RetryAfter, on a 429, becomes the Retry-After header.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail) }

func badRequest(scimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// library converts e to the value type github.com/elimity-com/scim
// recognises; a pointer or any other error would reach the client as a 500
// carrying err.Error().
func (e *Error) library() scimerrors.ScimError {
	return scimerrors.ScimError{Status: e.Status, ScimType: scimerrors.ScimType(e.ScimType), Detail: e.Detail}
}

// MarshalJSON renders the RFC 7644 error body.
func (e *Error) MarshalJSON() ([]byte, error) {
	body := struct {
		Schemas  []string `json:"schemas"`
		ScimType string   `json:"scimType,omitempty"`
		Detail   string   `json:"detail,omitempty"`
		Status   string   `json:"status"`
	}{
		Schemas:  []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		ScimType: e.ScimType,
		Detail:   e.Detail,
		Status:   strconv.Itoa(e.Status),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// writeError writes e as the response.
func writeError(w http.ResponseWriter, e *Error) {
	body, _ := json.Marshal(e)
	w.Header().Set("Content-Type", contentType)
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge"`)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(limit.Seconds(e.RetryAfter)))
	}
	w.WriteHeader(e.Status)
	w.Write(body)
}

// internalError is what a client sees of a failure it cannot act on; the
// details go to the log under the same request id.
func internalError(ctx context.Context) *Error {
	return &Error{
		Status: http.StatusInternalServerError,
		Detail: "internal server error; the server log has details under request id " + RequestID(ctx),
	}
}

// classify maps an error from the query, store or handler layers to the
// SCIM error the client should see, logging the ones it hides.
func classify(ctx context.Context, log *slog.Logger, err error) *Error {
	var (
		scimErr     *Error
		compatErr   *compat.Error
		queryErr    *query.Error
		conflict    *store.ConflictError
		member      *store.UnknownMemberError
		unsupported *store.UnsupportedFilterError
		limited     *LimitError
	)
	switch {
	case errors.As(err, &scimErr):
		return scimErr
	case errors.As(err, &limited):
		// RFC 7644 has no scimType for this; RFC 6585 gives the status.
		return &Error{Status: http.StatusTooManyRequests, Detail: limited.Detail, RetryAfter: limited.RetryAfter}
	case errors.As(err, &compatErr): // PATCH refusals too: patch.Error is compat.Error
		return badRequest(compatErr.ScimType, "%s", compatErr.Detail)
	case errors.As(err, &queryErr):
		if queryErr.Param == "filter" {
			return badRequest("invalidFilter", "%s", queryErr.Msg)
		}
		return badRequest("invalidValue", "%s: %s", queryErr.Param, queryErr.Msg)
	case errors.As(err, &unsupported):
		return badRequest("invalidFilter", "%s", unsupported.Msg)
	case errors.As(err, &conflict):
		return &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: conflict.Error()}
	case errors.As(err, &member):
		return badRequest("invalidValue", "%s", member.Error())
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Detail: "no such resource"}
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		return &Error{Status: http.StatusServiceUnavailable, Detail: "request cancelled"}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Detail: "the request took too long"}
	}
	log.ErrorContext(ctx, "request failed", "request_id", RequestID(ctx), "error", err)
	return internalError(ctx)
}
