package console_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// upload posts fields and, when csv is set, an export file as a
// multipart form, as the page's form does.
func (b *browser) upload(fields url.Values, csv string) page {
	b.w.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if csv != "" {
		fw, err := mw.CreateFormFile("export", "users.csv")
		if err != nil {
			b.w.t.Fatal(err)
		}
		io.WriteString(fw, csv)
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.w.srv.URL+"/console/import", &body)
	if err != nil {
		b.w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := b.c.Do(req)
	if err != nil {
		b.w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	p := page{res.StatusCode, res.Header, string(raw)}
	checkHeaders(b.w.t, "POST /console/import", p)
	return p
}

// hidden returns the value of the hidden input name in the page.
func hidden(t *testing.T, p page, name string) string {
	t.Helper()
	i := strings.Index(p.body, `name="`+name+`" value="`)
	if i < 0 {
		t.Fatalf("no hidden %s in the page", name)
	}
	rest := p.body[i+len(`name="`+name+`" value="`):]
	// As a browser does, undo html/template's escaping (+ is &#43;).
	return html.UnescapeString(rest[:strings.IndexByte(rest, '"')])
}

func TestReconcilePage(t *testing.T) {
	ctx := context.Background()
	w := populated(t)
	alice := w.taskOf("alice")
	if _, err := w.eng.Done(ctx, alice, "bob", "added", ""); err != nil {
		t.Fatal(err)
	}
	b := w.signedIn("Alice Admin")
	want(t, "the form", b.get("/console/import?app=peopleai"), http.StatusOK, `id="import-form"`, `enctype="multipart/form-data"`)

	csv := "email,status,role\nalice@example.com,active,User (Standard)\n"
	diff := b.upload(url.Values{"app": {"peopleai"}, "mode": {"delta"}}, csv)
	want(t, "the diff", diff, http.StatusOK, `data-applied="false"`, `id="summary-verify" data-count="1"`, `id="apply"`)
	if got, _ := queue.In(w.db.ReadSQL()).Task(ctx, alice); got.Status != task.Done {
		t.Fatalf("the dry run changed the task: %s", got.Status)
	}
	applied := b.upload(url.Values{"app": {"peopleai"}, "mode": {"delta"}, "apply": {"true"},
		"file": {hidden(t, diff, "file")}, "filename": {"users.csv"}}, "")
	want(t, "applied", applied, http.StatusOK, `data-applied="true"`)
	if got, _ := queue.In(w.db.ReadSQL()).Task(ctx, alice); got.Status != task.Verified {
		t.Errorf("alice's task after the import: %s", got.Status)
	}

	// A viewer reads the diff but cannot apply it.
	v := w.signedIn("vic")
	vdiff := v.upload(url.Values{"app": {"peopleai"}, "mode": {"snapshot"}}, csv)
	if vdiff.status != http.StatusOK || strings.Contains(vdiff.body, `id="apply"`) {
		t.Errorf("a viewer's diff: %d, apply offered: %v", vdiff.status, strings.Contains(vdiff.body, `id="apply"`))
	}
	want(t, "a viewer's apply", v.upload(url.Values{"app": {"peopleai"}, "mode": {"delta"}, "apply": {"true"},
		"file": {hidden(t, diff, "file")}}, ""), http.StatusForbidden, "may read the diff but not apply it")
	// Bad input is answered plainly.
	want(t, "no file", b.upload(url.Values{"app": {"peopleai"}, "mode": {"delta"}}, ""), http.StatusBadRequest, "Choose the app")
	want(t, "no mode", b.upload(url.Values{"app": {"peopleai"}}, csv), http.StatusBadRequest, "Choose snapshot")
	want(t, "not a CSV of users", b.upload(url.Values{"app": {"peopleai"}, "mode": {"delta"}}, "name\nx\n"), http.StatusBadRequest)
}
