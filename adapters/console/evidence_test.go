package console_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// pngBytes starts like a PNG file, which is all the type check reads.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 200)...)

type upload struct {
	name string
	data []byte
}

// postFiles sends a multipart report, as a browser's form with a file
// field does.
func (b *browser) postFiles(path string, fields map[string]string, files ...upload) page {
	b.w.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			b.w.t.Fatal(err)
		}
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile("file", f.name)
		if err != nil {
			b.w.t.Fatal(err)
		}
		fw.Write(f.data)
	}
	if len(files) == 0 {
		// A file field left empty still sends a part.
		if _, err := mw.CreateFormFile("file", ""); err != nil {
			b.w.t.Fatal(err)
		}
	}
	mw.Close()
	return b.send("POST", path, &body, map[string]string{"Content-Type": mw.FormDataContentType()})
}

var fileLink = regexp.MustCompile(`href="(/console/tasks/\d+/evidence/\d+)">([^<]*)</a>`)

func TestEvidenceFiles(t *testing.T) {
	w := populated(t)
	b := w.signedIn("olga")
	id := w.taskOf("dave")
	path := fmt.Sprintf("/console/tasks/%d", id)
	want(t, "claim", b.post(path+"/claim", nil), http.StatusSeeOther)
	want(t, "form", b.get(path), 200, `enctype="multipart/form-data"`, `type="file"`, `name="file"`)

	refusals := []struct {
		name   string
		files  []upload
		status int
		msg    string
	}{
		{"html", []upload{{"page.html", []byte("<!doctype html><script>alert(1)</script>")}}, http.StatusUnsupportedMediaType, "page.html is not a kind of file kept as evidence"},
		{"svg", []upload{{"logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>`)}}, http.StatusUnsupportedMediaType, "not a kind of file"},
		{"binary", []upload{{"tool.exe", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00")}}, http.StatusUnsupportedMediaType, "not a kind of file"},
		{"empty", []upload{{"blank.png", nil}}, http.StatusBadRequest, "blank.png is empty."},
		{"too many", []upload{{"1.txt", []byte("a")}, {"2.txt", []byte("b")}, {"3.txt", []byte("c")}, {"4.txt", []byte("d")}, {"5.txt", []byte("e")}, {"6.txt", []byte("f")}},
			http.StatusBadRequest, "Attach at most 5 files"},
		{"too big", []upload{{"huge.txt", bytes.Repeat([]byte("x"), 10<<20+1)}}, http.StatusRequestEntityTooLarge, "huge.txt is larger than 10 MB"},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			p := b.postFiles(path+"/done", map[string]string{"note": "removed by hand"}, c.files...)
			// Refused before anything is written; the note stays in the form.
			want(t, c.name, p, c.status, c.msg, ">removed by hand</textarea>")
			want(t, c.name+": still claimed", b.get(path), 200, `data-status="claimed"`)
		})
	}
	if strings.Contains(b.get(path).body, `id="evidence-files"`) {
		t.Fatal("a refused report left files on the task")
	}

	csv := []byte("email,role\ndave@example.com,removed\n")
	p := b.postFiles(path+"/done", map[string]string{"note": "removed in the app", "evidence": "https://tickets.example.com/9"},
		upload{`C:\Users\olga\Desktop\after.png`, pngBytes}, upload{"export.csv", csv})
	if p.status != http.StatusSeeOther {
		t.Fatalf("done with files: %d\n%s", p.status, p.body)
	}
	p = b.get(path)
	sum := sha256.Sum256(pngBytes)
	want(t, "done with files", p, 200, `data-status="verified"`, `id="evidence-files"`, hex.EncodeToString(sum[:]),
		"added by olga", `<a href="https://tickets.example.com/9"`)
	links := fileLink.FindAllStringSubmatch(p.body, -1)
	if len(links) != 2 || links[0][2] != "after.png" || links[1][2] != "export.csv" {
		t.Fatalf("evidence links %q", links)
	}
	// The audit trail names each file with its hash.
	want(t, "audit", b.get(fmt.Sprintf("/console/audit?task=%d", id)), 200, `evidence file &#34;after.png&#34;`)

	// A viewer may read the evidence; an image shows, a text downloads,
	// and nothing served may run.
	v := w.signedIn("vic")
	for _, c := range []struct {
		link, typ, disposition string
		data                   []byte
	}{
		{links[0][1], "image/png", `inline; filename=after.png`, pngBytes},
		{links[1][1], "text/plain; charset=utf-8", `attachment; filename=export.csv`, csv},
	} {
		res := v.raw("GET", c.link)
		if res.status != 200 || res.header.Get("Content-Type") != c.typ || res.header.Get("Content-Disposition") != c.disposition ||
			!strings.Contains(res.header.Get("Content-Security-Policy"), "sandbox") ||
			res.header.Get("X-Content-Type-Options") != "nosniff" || res.body != string(c.data) {
			t.Errorf("GET %s: %d %v (%d bytes)", c.link, res.status, res.header, len(res.body))
		}
	}
	want(t, "another task's file", v.get(fmt.Sprintf("/console/tasks/%d/evidence/1", w.taskOf("alice"))), http.StatusNotFound, "no such evidence file")
	want(t, "not a file", v.get(path+"/evidence/x"), http.StatusNotFound)
}

func TestUnclaim(t *testing.T) {
	w := populated(t)
	olga, alice, bob := w.signedIn("olga"), w.signedIn("Alice Admin"), w.signedIn("bob")
	id := w.taskOf("dave")
	path := fmt.Sprintf("/console/tasks/%d", id)

	want(t, "claim", olga.post(path+"/claim", nil), http.StatusSeeOther)
	want(t, "claimer sees give back", olga.get(path), 200, `id="unclaim-form"`)
	want(t, "claimer gives back", olga.post(path+"/unclaim", nil), http.StatusSeeOther)
	want(t, "open again", olga.get(path), 200, `data-status="open"`, "given back to the queue")
	want(t, "give back an open task", olga.post(path+"/unclaim", nil), http.StatusConflict, "is open now, so it cannot become open")

	// An approver frees a task someone else holds; an operator cannot.
	want(t, "claim again", olga.post(path+"/claim", nil), http.StatusSeeOther)
	want(t, "an approver sees give back", alice.get(path), 200, `id="unclaim-form"`)
	p := alice.do("POST", path+"/unclaim", nil, map[string]string{"HX-Request": "true"})
	want(t, "approver gives back from the queue", p, 200, fmt.Sprintf(`<tr id="task-%d" data-status="open"`, id))
	want(t, "bob claims", bob.post(path+"/claim", nil), http.StatusSeeOther)
	if strings.Contains(olga.get(path).body, `id="unclaim-form"`) {
		t.Error("an operator is offered to give back someone else's task")
	}
	want(t, "an operator gives back another's task", olga.post(path+"/unclaim", nil), http.StatusForbidden,
		"only they, or an approver, can give it back")
	want(t, "still bob's", olga.get(path), 200, `data-status="claimed"`)
	want(t, "a viewer cannot", w.signedIn("vic").post(path+"/unclaim", nil), http.StatusForbidden, "cannot give tasks back")
}

func TestCopyButtons(t *testing.T) {
	w := populated(t)
	b := w.signedIn("vic")
	p := b.get(fmt.Sprintf("/console/tasks/%d", w.taskOf("alice")))
	// Hidden until the script shows them, so that no dead button remains
	// without JavaScript.
	want(t, "task page", p, 200, `<script src="/console/static/console.js" defer></script>`,
		`data-copy-from="step-0" aria-label="Copy step 1" hidden>Copy</button>`,
		`<span id="step-0">`, `data-copy-from="desired-role"`, `role="status" id="copy-status"`)
	js := b.raw("GET", "/console/static/console.js")
	if js.status != 200 || !strings.Contains(js.header.Get("Content-Type"), "javascript") || !strings.Contains(js.body, "clipboard") {
		t.Errorf("console.js: %d %q", js.status, js.header.Get("Content-Type"))
	}
}

// raw sends a request without the page checks, for answers that are not
// pages.
func (b *browser) raw(method, path string) page {
	b.w.t.Helper()
	return b.fetch(method, path, nil, nil)
}
