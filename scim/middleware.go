package scim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

type requestInfoKey struct{}

// requestInfo travels in the request context so that the access log can
// report what inner handlers learned (the app, and whether it is one the
// server serves).
type requestInfo struct {
	id       string
	app      string
	appKnown bool
}

// RequestID returns the id the access log gave the request, or "" outside
// one.
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

func setRequestApp(ctx context.Context, app string, known bool) {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		info.app, info.appKnown = app, known
	}
}

// Observer learns of each request the access log has finished: its final
// status and how long it took, and the app it was for when that app is
// one the server serves ("" otherwise, so that made-up names in paths
// never reach it).
type Observer func(r *http.Request, app string, status int, elapsed time.Duration)

// AccessLog gives each request an id (the client's X-Request-Id when it is
// sane, a new one otherwise), echoes it in the response, recovers panics
// into a bare 500, and logs one line per request: method, path, app,
// status, duration, bytes, request id. Query strings are not logged: SCIM
// filters carry user names and emails; nor are path segments that hold an
// email address (the admin API names accounts by user name). Then it
// tells the observers.
func AccessLog(log *slog.Logger, next http.Handler, observers ...Observer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: requestIDFrom(r)}
		w.Header().Set("X-Request-Id", info.id)
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic serving request", "request_id", info.id,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !rec.wrote {
					writeError(rec, internalError(r.Context()))
				}
			}
			elapsed := time.Since(start)
			status := rec.statusOr200()
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", logPath(r.URL.Path)),
				slog.String("app", info.app),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.Int64("bytes", rec.bytes),
				slog.String("request_id", info.id),
			)
			app := ""
			if info.appKnown {
				app = info.app
			}
			for _, o := range observers {
				o(r, app, status, elapsed)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// logPath is path with each segment that holds an email address masked.
func logPath(path string) string {
	if !strings.Contains(path, "@") {
		return path
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.Contains(p, "@") {
			parts[i] = "-"
		}
	}
	return strings.Join(parts, "/")
}

func requestIDFrom(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 {
		ok := true
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				ok = false
				break
			}
		}
		if ok {
			return id
		}
	}
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status = code
		s.wrote = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status = http.StatusOK
		s.wrote = true
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) statusOr200() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
