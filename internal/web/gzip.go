package web

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
	"sync"
)

// Pages are sent gzip-compressed to clients that accept it. A cached page
// is compressed once, when it enters the page cache, so a hit costs no
// compression; a page that is not cached (search results, the 404 page) is
// compressed for its one response. The compressed body is a representation
// of its own, with the weak form of the page's validator: it means the same
// page, in other bytes.

// minGzip is the smallest body worth compressing: below it the gzip header
// and a round trip through the compressor save nothing.
const minGzip = 512

var gzPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return w
}}

// gzipBytes compresses b at the best level: pages are compressed once and
// sent many times.
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) / 4)
	zw := gzPool.Get().(*gzip.Writer)
	zw.Reset(&out)
	_, _ = zw.Write(b)
	_ = zw.Close()
	gzPool.Put(zw)
	return out.Bytes()
}

// compress fills e's compressed body and its headers when it is worth it.
// It runs before the entry is shared: in pageCache.put, or in writeBody for
// an entry made for one response.
func (e *entry) compress() {
	if e.gzTried {
		return
	}
	e.gzTried = true
	if len(e.body) < minGzip {
		return
	}
	gz := gzipBytes(e.body)
	if len(gz) >= len(e.body) {
		return
	}
	e.gz = gz
	e.hdrGzLen = []string{strconv.Itoa(len(gz))}
	if e.etag != "" {
		e.hdrGzETag = []string{"W/" + e.etag}
	}
}

// acceptsGzip reports whether Accept-Encoding header lines allow gzip:
// named (or "*") with a q value above zero. An explicit gzip entry decides
// over "*"; "gzip;q=0" refuses it, and so does a missing header. It does
// not allocate: it runs on every request.
func acceptsGzip(h []string) bool {
	star := false
	for _, line := range h {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ",")
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.TrimSpace(coding)
			isGzip := strings.EqualFold(coding, "gzip") || strings.EqualFold(coding, "x-gzip")
			if !isGzip && coding != "*" {
				continue
			}
			q := 1.0
			for params != "" {
				var p string
				p, params, _ = strings.Cut(params, ";")
				p = strings.TrimSpace(p)
				if v, ok := strings.CutPrefix(p, "q="); ok {
					f, err := strconv.ParseFloat(v, 64)
					if err != nil || f != f {
						f = 0
					}
					q = f
				}
			}
			if isGzip {
				return q > 0
			}
			star = star || q > 0
		}
	}
	return star
}
