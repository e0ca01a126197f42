package console

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/adapters/queue"
)

// Limits of evidence files: they live in the database, so they are
// screenshots and exports, not recordings.
const (
	maxEvidenceFile  = 10 << 20
	maxEvidenceFiles = 5
	maxEvidenceName  = 120
	// maxEvidenceBody bounds a report that carries files: the files, the
	// note, the link and the multipart framing.
	maxEvidenceBody = maxEvidenceFiles*maxEvidenceFile + 128<<10
)

// evidenceTypes are the kinds of file kept, by the type their first bytes
// show; the name's extension is not believed. HTML, SVG and scripts are
// refused, as they could run in the console's origin.
var evidenceTypes = map[string]string{
	"image/png":                 "image/png",
	"image/jpeg":                "image/jpeg",
	"image/gif":                 "image/gif",
	"image/webp":                "image/webp",
	"application/pdf":           "application/pdf",
	"text/plain; charset=utf-8": "text/plain; charset=utf-8",
}

// textNames are the endings a text file may have.
var textNames = map[string]bool{"": true, ".txt": true, ".csv": true, ".tsv": true, ".log": true, ".json": true, ".md": true}

const evidenceKinds = "PNG, JPEG, GIF or WebP images, PDF, or plain text such as CSV"

// readEvidence reads the files of the form's "file" field; a field left
// empty is no file.
func readEvidence(form *multipart.Form) ([]queue.Evidence, error) {
	if form == nil {
		return nil, nil
	}
	var out []queue.Evidence
	for _, fh := range form.File["file"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue
		}
		if len(out) == maxEvidenceFiles {
			return nil, errorf(http.StatusBadRequest, "Attach at most %d files to one report.", maxEvidenceFiles)
		}
		name := evidenceName(fh.Filename)
		if fh.Size > maxEvidenceFile {
			return nil, errorf(http.StatusRequestEntityTooLarge, "%s is larger than %d MB; attach a smaller file or give a link.", name, maxEvidenceFile>>20)
		}
		if fh.Size == 0 {
			return nil, errorf(http.StatusBadRequest, "%s is empty.", name)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("open uploaded file: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, maxEvidenceFile+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read uploaded file: %w", err)
		}
		typ, ok := evidenceType(data)
		if ok && strings.HasPrefix(typ, "text/") && !textNames[strings.ToLower(path.Ext(name))] {
			// Markup without a doctype sniffs as text; its name says what
			// it is meant to be.
			ok = false
		}
		if !ok {
			return nil, errorf(http.StatusUnsupportedMediaType, "%s is not a kind of file kept as evidence. Attach %s.", name, evidenceKinds)
		}
		out = append(out, queue.Evidence{Name: name, Type: typ, Data: data})
	}
	return out, nil
}

// evidenceType returns the type data is kept and served as.
func evidenceType(data []byte) (string, bool) {
	sniffed := http.DetectContentType(data)
	typ, ok := evidenceTypes[sniffed]
	if !ok {
		return "", false
	}
	// DetectContentType calls any UTF-8 without markup text; a text file
	// must be wholly valid UTF-8 and free of control bytes besides
	// whitespace, or it is something else.
	if strings.HasPrefix(typ, "text/") {
		if !utf8.Valid(data) || bytes.ContainsFunc(data, func(r rune) bool {
			return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
		}) {
			return "", false
		}
	}
	return typ, true
}

// evidenceName is the base of a browser's file name, without control
// characters, at most maxEvidenceName characters.
func evidenceName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > maxEvidenceName {
		name = string(r[:maxEvidenceName])
	}
	if name == "" || name == "." || name == "/" {
		return "evidence"
	}
	return name
}

// evidence serves one file kept with a task. Only images are shown in
// the browser; everything else is downloaded, and nothing it holds may
// run.
func (s *server) evidence(w http.ResponseWriter, r *http.Request) {
	id, err := taskID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fileID, err := strconv.ParseInt(r.PathValue("file"), 10, 64)
	if err != nil || fileID <= 0 {
		s.fail(w, r, errorf(http.StatusNotFound, "Task %d has no such evidence file.", id))
		return
	}
	e, err := s.queue().EvidenceFile(r.Context(), id, fileID)
	if errors.Is(err, queue.ErrNoEvidence) {
		s.fail(w, r, errorf(http.StatusNotFound, "Task %d has no such evidence file.", id))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	disposition := "attachment"
	if strings.HasPrefix(e.Type, "image/") {
		disposition = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", e.Type)
	h.Set("Content-Length", strconv.Itoa(len(e.Data)))
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": e.Name}))
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	if r.Method != http.MethodHead {
		w.Write(e.Data)
	}
}
