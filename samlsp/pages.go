package samlsp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
)

// autoSubmitScript is the only script scimbridge serves; the pages allow
// it by hash, so the Content-Security-Policy needs no 'unsafe-inline'.
const autoSubmitScript = `document.forms[0].submit();`

// postFormPolicy allows the auto-submit script and nothing else.
func postFormPolicy() string {
	sum := sha256.Sum256([]byte(autoSubmitScript))
	return "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; frame-ancestors 'none'"
}

const pagePolicy = "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// postField is one hidden input of an auto-submitted form.
type postField struct{ Name, Value string }

var postFormPage = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in</title></head>
<body>
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>JavaScript is off: press the button to continue.</p><button type="submit">Continue</button></noscript>
</form>
<script>` + autoSubmitScript + `</script>
</body></html>
`))

var messagePage = template.Must(template.New("message").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))

// writePostForm answers with a page that posts fields to action at once.
// It carries a SAML message, so nothing may cache it.
func writePostForm(w http.ResponseWriter, policy, action string, fields []postField) {
	var buf bytes.Buffer
	if err := postFormPage.Execute(&buf, struct {
		Action string
		Fields []postField
	}{action, fields}); err != nil {
		writeMessage(w, http.StatusInternalServerError, "Sign-in failed", "Something went wrong on our side. Please try again.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", policy)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(buf.Bytes())
}

// writeMessage answers with a plain page: status, title and message, all
// fixed texts chosen by the caller.
func writeMessage(w http.ResponseWriter, status int, title, message string) {
	var buf bytes.Buffer
	_ = messagePage.Execute(&buf, struct{ Title, Message string }{title, message})
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pagePolicy)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
