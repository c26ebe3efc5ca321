package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/ports"
)

// OfficialURL is where IANA publishes the registry's CSV export.
const OfficialURL = "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.csv"

// Limits of a download. The registry's CSV is about 1.1 MB; anything 30
// times larger is not it.
const (
	DefaultMaxBytes    = 32 << 20
	DefaultIdleTimeout = 30 * time.Second
	// MinRows is the fewest rows a registry may have (IANA's has about
	// 14,500).
	MinRows = 10000
	// MinShare is the share of the current registry's rows a new copy
	// must keep, in percent: IANA adds rows and rarely removes any, so a
	// copy that lost more than a tenth is damaged, not newer.
	MinShare = 90
)

// FetchOptions tunes Fetch. The zero value is usable.
type FetchOptions struct {
	// Client does the request; nil uses a client with the default
	// transport (which honours HTTPS_PROXY) and no overall timeout: the
	// idle timeout bounds a stalled download instead.
	Client *http.Client
	// IdleTimeout is how long the connection may go without sending a
	// byte (while waiting for the response, and between reads of the
	// body) before the download fails. 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxBytes caps the body; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Progress, if set, is called as the body arrives with the bytes read
	// so far and the expected total (-1 when the server did not say).
	Progress func(done, total int64)
}

// errStalled is the cause of a download cancelled by the idle timer.
var errStalled = errors.New("stalled")

// Fetch downloads the registry's CSV from url, checks that it is the whole
// file and is the registry (status, an HTML page in its place, size,
// Content-Length, header, every record, row count, anchor rows), and
// returns its rows and bytes. It does not compare with the registry in use;
// see Plausible.
func Fetch(ctx context.Context, url string, opt FetchOptions) ([]Row, []byte, error) {
	client := opt.Client
	if client == nil {
		client = &http.Client{}
	}
	idle := opt.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	limit := opt.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(idle, func() { cancel(errStalled) })
	defer timer.Stop()
	// failed words a transport error, naming a stall as one.
	failed := func(what string, err error) error {
		if errors.Is(context.Cause(ctx), errStalled) {
			return fmt.Errorf("%s: the server sent nothing for %s; giving up (the connection stalled)", url, idle)
		}
		return fmt.Errorf("%s: %s: %w", url, what, err)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("bad URL %q: %w", url, err)
	}
	req.Header.Set("Accept", "text/csv, text/plain;q=0.5, */*;q=0.1")
	req.Header.Set("User-Agent", "porthole (registry update)")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, failed("request failed", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s: the server answered %s, not the registry CSV", url, resp.Status)
	}
	if isHTMLType(resp.Header.Get("Content-Type")) {
		return nil, nil, fmt.Errorf("%s: the server sent an HTML page, not the registry CSV", url)
	}
	total := resp.ContentLength
	if total > limit {
		return nil, nil, fmt.Errorf("%s: the server announced %d bytes, more than the limit of %d for the registry CSV", url, total, limit)
	}

	var buf bytes.Buffer
	if total > 0 {
		buf.Grow(int(total))
	}
	chunk := make([]byte, 32<<10)
	body := io.LimitReader(resp.Body, limit+1)
	for {
		n, err := body.Read(chunk)
		if n > 0 {
			timer.Reset(idle)
			buf.Write(chunk[:n])
			if opt.Progress != nil {
				opt.Progress(int64(buf.Len()), total)
			}
			if int64(buf.Len()) > limit {
				return nil, nil, fmt.Errorf("%s: the download passed the limit of %d bytes; that is not the registry CSV", url, limit)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) && total >= 0 {
				return nil, nil, fmt.Errorf("%s: the download was cut short: got %d of %d bytes", url, buf.Len(), total)
			}
			return nil, nil, failed(fmt.Sprintf("download failed after %d bytes", buf.Len()), err)
		}
	}
	data := buf.Bytes()
	if total >= 0 && int64(len(data)) != total {
		return nil, nil, fmt.Errorf("%s: the download was cut short: got %d of %d bytes", url, len(data), total)
	}
	if looksLikeHTML(data) {
		return nil, nil, fmt.Errorf("%s: the server sent an HTML page, not the registry CSV", url)
	}
	rows, err := Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a sound registry CSV: %w", url, err)
	}
	if err := Sane(rows); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", url, err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		// Every record, the last included, ends with a line break in
		// IANA's file; a missing one means the body stopped at a record
		// boundary by chance.
		return nil, nil, fmt.Errorf("%s: the file does not end with a line break; it was probably cut short", url)
	}
	return rows, data, nil
}

func isHTMLType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.Contains(strings.ToLower(ct), "html")
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// looksLikeHTML sniffs the start of a body: a CSV starts with its header,
// an error page with markup.
func looksLikeHTML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) > 512 {
		b = b[:512]
	}
	if len(b) == 0 || b[0] != '<' {
		return false
	}
	return http.DetectContentType(b) == "text/html; charset=utf-8" ||
		bytes.HasPrefix(bytes.ToLower(b), []byte("<?xml")) ||
		bytes.HasPrefix(bytes.ToLower(b), []byte("<!doctype"))
}

// anchors are rows every copy of the registry has had for decades; a file
// without them is not the port registry.
var anchors = []struct {
	name  string
	port  int
	proto ports.Proto
}{
	{"ssh", 22, ports.TCP},
	{"domain", 53, ports.UDP},
	{"http", 80, ports.TCP},
	{"https", 443, ports.TCP},
}

// Sane checks rows on their own: enough of them, and the anchor rows
// (22/tcp ssh, 53/udp domain, 80/tcp http, 443/tcp https) present.
func Sane(rows []Row) error {
	if len(rows) < MinRows {
		return fmt.Errorf("the file has %d rows; the registry has more than %d, so this is not the whole registry", len(rows), MinRows)
	}
	var missing []string
	for _, a := range anchors {
		found := false
		for i := range rows {
			r := &rows[i]
			if r.Low == a.port && r.High == a.port && r.Proto == a.proto && strings.EqualFold(r.Name, a.name) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%d/%s %s", a.port, a.proto, a.name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the file lacks rows every registry has (%s); refusing it", strings.Join(missing, ", "))
	}
	return nil
}

// Plausible checks a new registry against the one in use: it must keep at
// least MinShare percent of the current rows.
func Plausible(rows []Row, current *Index) error {
	if current == nil {
		return nil
	}
	if len(rows)*100 < current.Len()*MinShare {
		return fmt.Errorf("the new registry has %d rows, fewer than %d%% of the %d in use; refusing it as damaged",
			len(rows), MinShare, current.Len())
	}
	return nil
}

// FetchedSource is the Source recorded for a registry downloaded from url
// at t.
func FetchedSource(url string, t time.Time) string {
	return fmt.Sprintf("%s, fetched %s", url, t.UTC().Format("2006-01-02 15:04 UTC"))
}
