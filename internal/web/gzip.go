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

var (
	gzPool = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
		return w
	}}
	gzExportPool = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, exportGzipLevel)
		return w
	}}
)

// exportGzipLevel is the level of an export's .gz files: 131,072 pages
// are compressed in one go, and the faster level keeps the export's pace
// for files a few per cent larger.
const exportGzipLevel = gzip.BestSpeed

// gzipBytes compresses b at the best level: pages are compressed once and
// sent many times.
func gzipBytes(b []byte) []byte { return gzipWith(&gzPool, b) }

// gzipExport compresses b for an export's .gz sibling of a page.
func gzipExport(b []byte) []byte { return gzipWith(&gzExportPool, b) }

func gzipWith(pool *sync.Pool, b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/3 + 64)
	zw := pool.Get().(*gzip.Writer)
	zw.Reset(&out)
	_, _ = zw.Write(b)
	_ = zw.Close()
	pool.Put(zw)
	return out.Bytes()
}

// addGzSiblings adds NAME.gz beside each file of an export's extra files
// (sitemaps, assets) where compression pays, for servers that send a
// precompressed sibling (nginx gzip_static, Caddy precompressed).
func addGzSiblings(files map[string][]byte) {
	for name, b := range files {
		if strings.HasSuffix(name, ".gz") || len(b) < minGzip {
			continue
		}
		if gz := gzipBytes(b); len(gz) < len(b) {
			files[name+".gz"] = gz
		}
	}
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

// AcceptsGzip reports whether a request with these Accept-Encoding header
// lines is sent the gzip-compressed body of a page that has one.
func AcceptsGzip(lines []string) bool { return acceptsGzip(lines) }

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
				// "q" is case-insensitive (RFC 9110, 12.4.2).
				if len(p) >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=' {
					v := p[2:]
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
