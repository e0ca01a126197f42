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

// errUnavailable answers a write the database cannot take now (a full
// disk, a read-only file). The IdP retries it later; Retry-After says
// when.
var errUnavailable = &Error{Status: http.StatusServiceUnavailable,
	Detail: "the service cannot store changes at the moment; try again later"}

// retryAfter is the wait a 503 asks for, in seconds: what makes the
// database refuse writes takes an operator, not a moment, to fix.
const retryAfter = "30"

// retryHint adds Retry-After to every 503, whoever writes it: scimbridge
// or the SCIM library.
type retryHint struct{ http.ResponseWriter }

func (w retryHint) WriteHeader(status int) {
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w retryHint) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// pastLibrary lets a handler that github.com/elimity-com/scim calls send
// an error the library would turn into a 500: it allows only the statuses
// of RFC 7644's table, which has no 503. Once the handler has answered,
// the library's own answer is dropped.
type pastLibrary struct {
	http.ResponseWriter
	answered bool
}

type pastLibraryKey struct{}

func (w *pastLibrary) WriteHeader(status int) {
	if !w.answered {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *pastLibrary) Write(b []byte) (int, error) {
	if w.answered {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// serveLibrary has the library serve r, letting its handlers answer past
// it.
func serveLibrary(lib http.Handler, w http.ResponseWriter, r *http.Request) {
	pw := &pastLibrary{ResponseWriter: w}
	lib.ServeHTTP(pw, r.WithContext(context.WithValue(r.Context(), pastLibraryKey{}, pw)))
}

// answerPast writes e as the answer to r, which serveLibrary serves.
func answerPast(r *http.Request, e *Error) {
	if pw, ok := r.Context().Value(pastLibraryKey{}).(*pastLibrary); ok && !pw.answered {
		writeError(pw.ResponseWriter, e)
		pw.answered = true
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
		unwritable  *store.UnavailableError
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
	case errors.As(err, &unwritable):
		// Once per refused request: how many changes the outage cost
		// shows in the log. Reason and code hold no data.
		log.ErrorContext(ctx, "the database cannot be written; the change was refused",
			"reason", unwritable.Reason, "code", unwritable.Code, "request_id", RequestID(ctx))
		return errUnavailable
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		return &Error{Status: http.StatusServiceUnavailable, Detail: "request cancelled"}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Detail: "the request took too long"}
	}
	log.ErrorContext(ctx, "request failed", "request_id", RequestID(ctx), "error", err)
	return internalError(ctx)
}
