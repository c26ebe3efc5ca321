package feedback

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/webguard"
)

// The admin page uses no inline script or style, so it works under the site's strict Content-Security-Policy.
// Every value goes through html/template's contextual escaping; user text is never converted to template.HTML.
// The template is parsed on the first request for the page, not when porthole starts.
var adminPage struct {
	once sync.Once
	t    *template.Template
}

func adminTemplate() *template.Template {
	adminPage.once.Do(func() {
		funcs := template.FuncMap{
			"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
			"show": DisplayComment,
		}
		adminPage.t = template.Must(template.New("admin").Funcs(funcs).Parse(adminHTML))
	})
	return adminPage.t
}

const adminHTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Feedback · porthole admin</title></head>
<body>
<h1>Feedback</h1>
<h2>Ratings per port</h2>
<table>
<thead><tr><th>Port</th><th>😔 unhelpful</th><th>😐 neutral</th><th>😃 helpful</th><th>Total</th></tr></thead>
<tbody>
{{- range .Ports}}
<tr><td><a href="?port={{.Port}}">{{.Port}}</a></td><td>{{.Unhelpful}}</td><td>{{.Neutral}}</td><td>{{.Helpful}}</td><td>{{.Total}}</td></tr>
{{- else}}
<tr><td colspan="5">No feedback yet.</td></tr>
{{- end}}
</tbody>
</table>
<h2>{{if .ByPort}}Answers about port {{.Port}}{{else}}Latest answers{{end}}</h2>
<table>
<thead><tr><th>ID</th><th>Time (UTC)</th><th>Port</th><th>Lang</th><th>Rating</th><th>Comment</th></tr></thead>
<tbody>
{{- range .Items}}
<tr><td>{{.ID}}</td><td>{{time .Created}}</td><td>{{.Port}}</td><td>{{.Lang}}</td><td>{{.Rating}}</td><td>{{show .Comment}}</td></tr>
{{- end}}
</tbody>
</table>
{{if .Next}}<p><a href="?{{.Next}}">Older answers</a></p>{{end}}
</body>
</html>
`

func (h *Handler) admin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if res, wait := h.adminAuth.Authenticate(r, webguard.ClientAddr(r, h.opts.TrustProxy)); res != webguard.Granted {
		if res == webguard.Throttled {
			h.log.Warn("admin login throttled", "client", h.clients.key(r, h.opts.TrustProxy).String())
		}
		webguard.Refuse(w, res, wait, "porthole admin")
		return
	}
	q := r.URL.Query()
	o := store.ListOptions{Limit: 100}
	if p := q.Get("port"); p != "" {
		n, err := parsePort(p)
		if err != nil {
			writeTextError(w, http.StatusBadRequest, "bad port")
			return
		}
		o.ByPort, o.Port = true, n
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			writeTextError(w, http.StatusBadRequest, "bad before")
			return
		}
		o.BeforeID = n
	}
	ports, err := h.st.Ports(r.Context(), 100)
	if err != nil {
		h.fail(w, r, err, writeTextError)
		return
	}
	items, err := h.st.List(r.Context(), o)
	if err != nil {
		h.fail(w, r, err, writeTextError)
		return
	}
	data := struct {
		Ports  []store.PortCounts
		Items  []store.Feedback
		ByPort bool
		Port   int
		Next   string
	}{Ports: ports, Items: items, ByPort: o.ByPort, Port: o.Port}
	if len(items) == o.Limit {
		next := q
		next.Set("before", strconv.FormatInt(items[len(items)-1].ID, 10))
		data.Next = next.Encode()
	}
	var buf bytes.Buffer
	if err := adminTemplate().Execute(&buf, data); err != nil {
		h.fail(w, r, err, writeTextError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
