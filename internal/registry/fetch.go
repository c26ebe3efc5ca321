package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
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
	// DefaultTimeout bounds a whole download, headers and body: IANA's
	// 1.1 MB takes seconds even on a slow link.
	DefaultTimeout = 2 * time.Minute
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
	// transport (which honours HTTPS_PROXY). Timeout and IdleTimeout
	// bound the download whatever the client's own settings.
	Client *http.Client
	// Timeout bounds the whole download: connecting, the response headers
	// and the whole body. 0 means DefaultTimeout.
	Timeout time.Duration
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

// errStalled is the cause of a download cancelled by the idle timer,
// errTooLong of one that passed its overall deadline.
var (
	errStalled = errors.New("stalled")
	errTooLong = errors.New("past the deadline")
)

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

	whole := opt.Timeout
	if whole <= 0 {
		whole = DefaultTimeout
	}

	ctx, stop := context.WithTimeoutCause(ctx, whole, errTooLong)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The idle timer matters only when it is shorter than the deadline.
	timer := time.AfterFunc(idle, func() {
		if idle < whole {
			cancel(errStalled)
		}
	})
	defer timer.Stop()
	// failed words a transport error, naming a stall or the deadline.
	failed := func(what string, err error) error {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errStalled):
			return fmt.Errorf("%s: the server sent nothing for %s; giving up (the connection stalled)", url, idle)
		case errors.Is(cause, errTooLong):
			return fmt.Errorf("%s: the download took longer than %s; giving up (raise --timeout for a slow link)", url, whole)
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
	rows, err := Check(data, url)
	if err != nil {
		return nil, nil, err
	}
	return rows, data, nil
}

// Check validates the bytes of a registry CSV, downloaded or read from a
// file (name says which, for the errors): not an HTML page, every record
// sound (Parse, with its caps), the registry's anchor rows (Sane), and a
// final line break.
func Check(data []byte, name string) ([]Row, error) {
	if looksLikeHTML(data) {
		return nil, fmt.Errorf("%s is an HTML page, not the registry CSV", name)
	}
	rows, err := Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s is not a sound registry CSV: %w", name, err)
	}
	if err := Sane(rows); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		// Every record, the last included, ends with a line break in
		// IANA's file; a missing one means the body stopped at a record
		// boundary by chance.
		return nil, fmt.Errorf("%s: the file does not end with a line break; it was probably cut short", name)
	}
	return rows, nil
}

// ReadCSV reads a registry CSV from a local file (`porthole update --file`)
// and checks it exactly as Fetch checks a download. The file must be a
// regular file of at most maxBytes (0: DefaultMaxBytes); it is opened
// without blocking, so a FIFO cannot hang the update.
func ReadCSV(path string, maxBytes int64) ([]Row, []byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	f, err := openNoBlock(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file (%s); give the registry CSV itself", path, fi.Mode().Type())
	}
	if fi.Size() > maxBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes, more than the limit of %d for the registry CSV", path, fi.Size(), maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, nil, fmt.Errorf("%s: more than the limit of %d bytes for the registry CSV", path, maxBytes)
	}
	rows, err := Check(data, path)
	if err != nil {
		return nil, nil, err
	}
	return rows, data, nil
}

// FutureSlack is how far past the clock a registry date may lie: IANA
// dates a change in its own time zone, and clocks drift.
const FutureSlack = 48 * time.Hour

// Future reports whether a registry date (YYYY-MM-DD or YYYY-MM) lies after
// now + FutureSlack, which no real registry can. A month counts from its
// first day. An unreadable date is not future.
func Future(date string, now time.Time) bool {
	layout := "2006-01-02"
	if len(date) == 7 {
		layout = "2006-01"
	}
	t, err := time.Parse(layout, date)
	return err == nil && t.After(now.Add(FutureSlack))
}

// CheckDates refuses rows dated in the future (see Future): a registry
// dated 2099 would otherwise be "newer" than every real one and pin the
// cache, each later update refused as older.
func CheckDates(rows []Row, now time.Time) error {
	for i := range rows {
		r := &rows[i]
		for _, d := range []struct{ col, v string }{{Header[6], r.Registered}, {Header[7], r.Modified}} {
			if d.v != "" && Future(d.v, now) {
				what := r.Name
				if what == "" {
					what = "(" + r.Kind().String() + ")"
				}
				port := "no port"
				if r.HasPort() {
					port = strconv.Itoa(r.Low)
					if r.High != r.Low {
						port += "-" + strconv.Itoa(r.High)
					}
				}
				if r.Proto != ports.ProtoNone {
					port += "/" + r.Proto.String()
				}
				return fmt.Errorf("row %s %s has %s %s, after today (%s); a registry cannot be dated in the future, so refusing it",
					what, port, d.col, d.v, now.UTC().Format("2006-01-02"))
			}
		}
	}
	return nil
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

// FileSource is the Source recorded for a registry read from a file at t.
func FileSource(path string, t time.Time) string {
	return fmt.Sprintf("file %s, read %s", path, t.UTC().Format("2006-01-02 15:04 UTC"))
}

// FetchedSource is the Source recorded for a registry downloaded from url
// at t.
func FetchedSource(url string, t time.Time) string {
	return fmt.Sprintf("%s, fetched %s", url, t.UTC().Format("2006-01-02 15:04 UTC"))
}
