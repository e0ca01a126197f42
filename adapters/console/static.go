package console

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
)

// static holds the console's stylesheet, its one small script and the
// vendored htmx, served
// from the binary so that the CSP can allow 'self' and nothing else.
//
//go:embed static/console.css static/console.js static/htmx.min.js
var static embed.FS

// staticHandler serves the files of static, and no directory listings.
func staticHandler() (http.Handler, error) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("console: static files: %w", err)
	}
	files := http.StripPrefix("/console/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}), nil
}
