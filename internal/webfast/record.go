package webfast

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// prepared is what the front keeps in a cached page's slot: the page's
// responses, pre-serialised, plain and gzip-compressed.
type prepared struct{ v [2]*variant }

// variant is one representation of a page as the site's own handler sent it
// to a GET: its header lines without the status line, Date and Connection
// (which depend on the request and the clock), for the 200 and for the 304
// answer to a matching If-None-Match, and the body.
type variant struct {
	etag       string // the strong validator If-None-Match is compared with
	head, h304 []byte
	body       []byte
}

// recorder is the http.ResponseWriter the site's handler writes a response
// to when the front records it.
type recorder struct {
	h      http.Header
	sent   http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }

func (r *recorder) WriteHeader(code int) {
	if r.sent == nil {
		r.status, r.sent = code, r.h.Clone()
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// run sends the handler a GET of path for host, with Accept-Encoding: gzip
// when gz and the If-None-Match inm when not "", and returns what it wrote;
// nil when it panicked.
func (f *Front) run(path, host, remote string, gz bool, inm string) (rec *recorder) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
	if err != nil {
		return nil
	}
	req.Host, req.RequestURI, req.RemoteAddr = host, path, remote
	if gz {
		req.Header["Accept-Encoding"] = []string{"gzip"}
	}
	if inm != "" {
		req.Header["If-None-Match"] = []string{inm}
	}
	defer func() {
		if recover() != nil {
			rec = nil
		}
	}()
	rec = &recorder{h: http.Header{}}
	f.cfg.Handler.ServeHTTP(rec, req)
	rec.WriteHeader(http.StatusOK)
	return rec
}

// record has the site's handler answer a GET of path (and the same with
// If-None-Match naming the answer's ETag) and keeps both answers
// pre-serialised, or returns nil when the answer is not one the front can
// send the same way net/http would: not a 200 with Content-Type,
// Content-Length and an ETag, or carrying anything net/http would add to or
// take from (Date, Connection, Transfer-Encoding, Trailer), or a cookie.
func (f *Front) record(path, host, remote string, gz bool) *variant {
	ok := f.run(path, host, remote, gz, "")
	if ok == nil || ok.status != http.StatusOK || !plain(ok.sent) {
		return nil
	}
	etag := ok.sent["Etag"]
	if len(etag) != 1 || ok.sent.Get("Content-Type") == "" ||
		ok.sent.Get("Content-Length") != strconv.Itoa(ok.body.Len()) || len(ok.sent["Content-Length"]) != 1 {
		return nil
	}
	nm := f.run(path, host, remote, gz, etag[0])
	if nm == nil || nm.status != http.StatusNotModified || nm.body.Len() != 0 || !plain(nm.sent) {
		return nil
	}
	v := &variant{etag: strings.TrimPrefix(etag[0], "W/"), body: ok.body.Bytes()}
	var b bytes.Buffer
	// net/http writes a handler's header map with WriteSubset, sorted by
	// name; for a 304 it leaves out the headers of a body.
	_ = ok.sent.WriteSubset(&b, nil)
	v.head = bytes.Clone(b.Bytes())
	b.Reset()
	_ = nm.sent.WriteSubset(&b, map[string]bool{"Content-Type": true, "Content-Length": true, "Transfer-Encoding": true})
	v.h304 = bytes.Clone(b.Bytes())
	return v
}

func plain(h http.Header) bool {
	for _, k := range []string{"Date", "Connection", "Transfer-Encoding", "Trailer", "Set-Cookie"} {
		if _, ok := h[k]; ok {
			return false
		}
	}
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return false
		}
	}
	return true
}

// lookup returns the pre-serialised variant of path's page, recording it
// when the slot has none yet. It keeps a recording only if the page's slot
// is the same before and after it (the cache did not replace the page
// meanwhile), so a slot never holds another page's response.
func (f *Front) lookup(path, host string, remote func() net.Addr, gz bool) *variant {
	page, ok := f.cfg.Lookup(path)
	if !ok {
		return nil
	}
	slot := page.Slot()
	i := 0
	if gz {
		i = 1
	}
	p, _ := slot.Load().(*prepared)
	if p != nil && p.v[i] != nil {
		return p.v[i]
	}
	v := f.record(path, host, remote().String(), gz)
	if v == nil {
		return nil
	}
	if again, ok := f.cfg.Lookup(path); !ok || again != page {
		return nil
	}
	// Keep the page's own bytes, not the recorded copy: the cache's budget
	// then bounds what the front keeps too, but for the headers. A
	// recording of other bytes is not this page's (the handler found
	// another entry under the page's key, which the cache replaced and
	// put back meanwhile) and is not kept.
	plain, gzBody := page.Bodies()
	switch {
	case bytes.Equal(v.body, plain):
		v.body = plain
	case gzBody != nil && bytes.Equal(v.body, gzBody):
		v.body = gzBody
	default:
		return nil
	}
	for {
		old, _ := slot.Load().(*prepared)
		n := &prepared{}
		if old != nil {
			*n = *old
		}
		n.v[i] = v
		if swapSlot(slot, old, n) {
			return v
		}
	}
}

func swapSlot(slot *atomic.Value, old, n *prepared) bool {
	if old == nil {
		return slot.CompareAndSwap(nil, n)
	}
	return slot.CompareAndSwap(old, n)
}
