package console

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
)

// maxExport bounds an uploaded export of an app's users.
const maxExport = 16 << 20

// importData is the reconciliation page: the upload form, and after an
// upload the dry-run diff (or, once applied, what it did).
type importData struct {
	Apps   []string
	App    string
	Mode   string
	Report *reconcile.Report
	// File is the upload, carried to the apply form so that the same
	// export is applied that was shown.
	File     string
	FileName string
	CanApply bool
}

func (s *server) importForm(w http.ResponseWriter, r *http.Request) {
	d := importData{Apps: s.names, App: r.URL.Query().Get("app"), Mode: string(reconcile.Delta)}
	s.render(w, r, http.StatusOK, "import", view{Title: "Reconcile", Nav: "import", Page: d})
}

// importUpload shows the dry-run diff of an uploaded export; with
// apply=true it applies it.
func (s *server) importUpload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxExport+64<<10)
	var (
		data  []byte
		name  string
		apply = r.FormValue("apply") == "true"
	)
	// The apply form carries the export back as a field, so fields may be
	// as large as the file.
	if err := r.ParseMultipartForm(2 * maxExport); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		s.fail(w, r, errorf(http.StatusBadRequest, "The upload could not be read: is it larger than %d MiB?", maxExport>>20))
		return
	}
	d := importData{Apps: s.names, App: r.FormValue("app"), Mode: r.FormValue("mode"), CanApply: whoOf(r.Context()).Can(Operator)}
	if _, ok := s.cfg.Apps[d.App]; !ok {
		s.fail(w, r, errorf(http.StatusBadRequest, "Choose an app."))
		return
	}
	mode, err := reconcile.ParseMode(d.Mode)
	if err != nil {
		s.fail(w, r, errorf(http.StatusBadRequest, "Choose snapshot (the export lists every account) or delta (it lists some)."))
		return
	}
	if apply {
		if !d.CanApply {
			s.fail(w, r, errorf(http.StatusForbidden, "Your role may read the diff but not apply it."))
			return
		}
		if data, err = base64.StdEncoding.DecodeString(r.FormValue("file")); err != nil {
			s.fail(w, r, errorf(http.StatusBadRequest, "The export to apply was garbled; upload it again."))
			return
		}
		name = r.FormValue("filename")
	} else {
		f, h, err := r.FormFile("export")
		if err != nil {
			s.fail(w, r, errorf(http.StatusBadRequest, "Choose the app's user export (a CSV file)."))
			return
		}
		defer f.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(http.MaxBytesReader(w, f, maxExport)); err != nil {
			s.fail(w, r, errorf(http.StatusBadRequest, "The export is larger than %d MiB.", maxExport>>20))
			return
		}
		data, name = b.Bytes(), h.Filename
	}
	file, err := reconcile.Parse(bytes.NewReader(data), s.cfg.Columns[d.App])
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "import", view{Title: "Reconcile", Nav: "import", Message: err.Error(), Page: d})
		return
	}
	res, err := s.cfg.Engine.Preview(r.Context(), d.App, file, mode, s.cfg.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res.Source = name
	if apply {
		err := s.cfg.Engine.Import(r.Context(), d.App, res, whoOf(r.Context()).Actor)
		if errors.Is(err, engine.ErrStale) {
			s.fail(w, r, errorf(http.StatusConflict, "Nothing was applied: the accounts changed since the diff was made. Upload the export again to see the diff as it is now."))
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	report := reconcile.NewReport(res, apply)
	d.Report, d.File, d.FileName = &report, base64.StdEncoding.EncodeToString(data), name
	s.render(w, r, http.StatusOK, "import", view{Title: "Reconcile " + d.App, Nav: "import", Page: d})
}
