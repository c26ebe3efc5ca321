// Package webfast is a front for porthole serve's plain-HTTP listener. It
// owns every connection first and answers, in one write of pre-serialised
// bytes, the requests it fully understands for a page in the site's page
// cache: a GET or HEAD of a port page, no body, no cookie, HTTP/1.1 or 1.0.
// Everything else, and everything after it on that connection, goes to the
// net/http server, through the listener Listener returns, with the bytes
// already read replayed first.
//
// The bytes it sends are what the site's own handler (the whole chain
// net/http serves: security headers, Host check, the page's writeBody)
// wrote for the same page, recorded once per cached page and kept in the
// page's cache slot, so there is one source of headers; what net/http adds
// itself (the status line, Date, Connection) is added here the same way.
// The differential test in this package compares both paths byte for byte.
package webfast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porthole/porthole/internal/web"
)

// Config is what the front needs from porthole serve.
type Config struct {
	// Handler is the handler the net/http server serves; the front records
	// its answers.
	Handler http.Handler
	// Lookup returns the cached page a GET of path is answered from, or
	// false (web.Site.Cached).
	Lookup func(path string) (web.CachedPage, bool)
	// HostOK reports whether a Host header is answered (webguard's
	// HostCheck); nil answers every host.
	HostOK func(host string) bool
	// ReadHeader, Write and Idle are the server's timeouts: to read a
	// request head, to write a response, and between requests.
	ReadHeader, Write, Idle time.Duration
	// Log receives accept errors; nil discards them.
	Log *slog.Logger
}

// Front is the fast front on one listener.
type Front struct {
	cfg  Config
	ln   net.Listener
	http *chanListener

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed atomic.Bool // set under mu
	// active counts the connections the front owns (Shutdown waits for
	// them).
	active sync.WaitGroup
}

// maxHead is the largest request head the front reads before it leaves the
// connection to net/http (whose own limit, webguard.MaxHeaderBytes, is
// larger and applies to the replayed bytes too).
const maxHead = 8 << 10

// New returns a front for ln. Serve it, and serve the net/http server on
// Listener().
func New(ln net.Listener, cfg Config) *Front {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Front{cfg: cfg, ln: ln, http: newChanListener(ln.Addr()), conns: map[*conn]struct{}{}}
}

// Listener is where the connections the front hands over arrive: serve the
// net/http server on it.
func (f *Front) Listener() net.Listener { return f.http }

// Serve accepts connections until Close; it returns nil after Close.
func (f *Front) Serve() error {
	var delay time.Duration
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if f.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// As net/http does: back off and retry (a full file table
			// passes).
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			f.cfg.Log.Warn("accept", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		fc := &conn{f: f, nc: c}
		if !f.track(fc, true) {
			c.Close()
			continue
		}
		go fc.serve()
	}
}

// Close stops accepting and closes the connections that wait for a
// request (none of it read yet); one in the middle of a request closes
// after its response, which says Connection: close as net/http's do when
// it shuts down. The net/http server's Shutdown closes Listener and the
// connections handed to it.
func (f *Front) Close() error {
	f.mu.Lock()
	f.closed.Store(true)
	var idle []*conn
	for c := range f.conns {
		if c.idle.Load() {
			idle = append(idle, c)
		}
	}
	f.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
	return f.ln.Close()
}

// Shutdown is Close, then waits until the front owns no connection (each
// finished its response, or was handed to net/http, or was cut off by a
// timeout). When ctx ends first it closes the connections left and
// returns ctx's error. Shut the front down before the net/http server, so
// that what it hands over meanwhile is net/http's to finish.
func (f *Front) Shutdown(ctx context.Context) error {
	err := f.Close()
	done := make(chan struct{})
	go func() {
		f.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
	}
	// Cut what is left; a connection on its way to net/http is closed
	// instead (net/http's listener is closed for the front from now on).
	f.http.Close()
	f.mu.Lock()
	for c := range f.conns {
		c.nc.Close()
	}
	f.mu.Unlock()
	<-done
	return ctx.Err()
}

func (f *Front) isClosed() bool { return f.closed.Load() }

func (f *Front) track(c *conn, add bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !add {
		delete(f.conns, c)
		f.active.Done()
		return true
	}
	if f.closed.Load() {
		return false
	}
	f.conns[c] = struct{}{}
	f.active.Add(1)
	return true
}

// conn is one connection while the front owns it.
type conn struct {
	f    *Front
	nc   net.Conn
	buf  []byte // read, not yet answered
	out  []byte // answered, not yet written
	req  request
	sc   scanner     // reads req from buf
	idle atomic.Bool // waiting for the first byte of a request
	// aeStr and inmStr are the request's header lines as strings, reused.
	aeStr, inmStr []string
}

// lingerTime is how long a closing connection waits for the client to
// close after the last response, as net/http does (rstAvoidanceDelay), so
// that unread bytes of the client's do not reset the connection before it
// has read the response.
const lingerTime = 500 * time.Millisecond

func (c *conn) serve() {
	defer c.f.track(c, false)
	defer func() {
		// As net/http does with a handler's panic: log it and drop this
		// connection, not the server.
		if v := recover(); v != nil {
			c.f.cfg.Log.Error("fast front panic", "remote", c.nc.RemoteAddr().String(), "panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
			c.nc.Close()
		}
	}()
	c.buf = make([]byte, 0, 4<<10)
	start := time.Now() // the first request's head is due ReadHeader after accept
	for {
		// end is the head's length once it is whole, 0 while it is not,
		// and -1 as soon as it is not one the front takes (not a GET or
		// HEAD, a line net/http refuses at once, bare LF line ends): then
		// it is net/http's from its first line on, with the header
		// deadline counted from its first byte.
		c.sc = scanner{}
		end := c.sc.scan(c.buf, &c.req)
		for end == 0 {
			if len(c.buf) >= maxHead {
				c.handOff(start)
				return
			}
			if !c.flush() {
				return
			}
			if len(c.buf) == 0 {
				// No byte of a request read: Close ends the connection.
				c.idle.Store(true)
				if c.f.isClosed() {
					c.nc.Close()
					return
				}
			}
			if start.IsZero() {
				// Between requests: the idle timeout.
				_ = c.nc.SetReadDeadline(time.Now().Add(c.f.cfg.Idle))
			} else {
				_ = c.nc.SetReadDeadline(start.Add(c.f.cfg.ReadHeader))
			}
			if len(c.buf) == cap(c.buf) {
				c.buf = append(c.buf, 0)[:len(c.buf)]
			}
			n, err := c.nc.Read(c.buf[len(c.buf):cap(c.buf)])
			c.idle.Store(false)
			c.buf = c.buf[:len(c.buf)+n]
			if n > 0 && start.IsZero() {
				start = time.Now()
			}
			if err != nil {
				var ne net.Error
				if len(c.buf) == 0 || errors.As(err, &ne) && ne.Timeout() || !errors.Is(err, io.EOF) {
					// Nothing to answer, or a head not finished in
					// time: net/http closes without a word too.
					c.nc.Close()
					return
				}
				// A partial request and then EOF: net/http's answer.
				c.handOff(start)
				return
			}
			end = c.sc.scan(c.buf, &c.req)
		}
		if end < 0 || !c.answer() {
			c.handOff(start)
			return
		}
		rest := copy(c.buf, c.buf[end:])
		c.buf = c.buf[:rest]
		start = time.Time{}
		if rest > 0 {
			start = time.Now()
		}
		if c.req.close || c.req.http10 && !c.req.keepAlive {
			if c.flush() {
				c.lingerClose()
			}
			return
		}
		if len(c.out) >= 64<<10 && !c.flush() {
			return
		}
	}
}

// answer appends the response to c.req to c.out, or returns false when the
// front does not answer it.
func (c *conn) answer() bool {
	r := &c.req
	host := string(r.host)
	if c.f.cfg.HostOK != nil && !c.f.cfg.HostOK(host) {
		return false
	}
	c.aeStr = appendStrings(c.aeStr[:0], r.acceptEncoding)
	c.inmStr = appendStrings(c.inmStr[:0], r.ifNoneMatch)
	gz := web.AcceptsGzip(c.aeStr)
	v := c.f.lookup(string(r.path), host, c.nc.RemoteAddr, gz)
	if v == nil {
		return false
	}
	if c.out == nil {
		c.out = (*outPool.Get().(*[]byte))[:0]
	}
	proto := "HTTP/1.1 "
	if r.http10 {
		proto = "HTTP/1.0 "
	}
	c.out = append(c.out, proto...)
	notModified := web.IfNoneMatch(c.inmStr, v.etag)
	if notModified {
		c.out = append(c.out, "304 Not Modified\r\n"...)
		c.out = append(c.out, v.h304...)
	} else {
		c.out = append(c.out, "200 OK\r\n"...)
		c.out = append(c.out, v.head...)
	}
	// After the handler's headers, net/http adds Date, then Connection.
	c.out = append(c.out, "Date: "...)
	c.out = appendDate(c.out)
	c.out = append(c.out, "\r\n"...)
	// While the front shuts down, the connection closes after this
	// response, and the response says so (Connection: close in HTTP/1.1,
	// no keep-alive in 1.0), as net/http's do when its keep-alives are
	// off.
	if c.f.isClosed() {
		r.close, r.keepAlive = true, false
	}
	switch {
	case r.http10 && r.keepAlive:
		c.out = append(c.out, "Connection: keep-alive\r\n"...)
	case !r.http10 && r.close:
		c.out = append(c.out, "Connection: close\r\n"...)
	}
	c.out = append(c.out, "\r\n"...)
	if !notModified && !r.head {
		c.out = append(c.out, v.body...)
	}
	return true
}

func appendStrings(dst []string, lines [][]byte) []string {
	for _, l := range lines {
		dst = append(dst, string(l))
	}
	return dst
}

// flush writes c.out; false when the connection failed (it is closed then).
func (c *conn) flush() bool {
	if len(c.out) == 0 {
		return true
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.f.cfg.Write))
	_, err := c.nc.Write(c.out)
	// The buffer goes back to the pool: a connection between requests
	// keeps none.
	b := c.out[:0]
	outPool.Put(&b)
	c.out = nil
	if err != nil {
		c.nc.Close()
		return false
	}
	return true
}

// outPool holds the buffers responses are assembled in.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// handOff gives the connection to net/http, the bytes read but not
// answered first; start is when the first of them arrived.
func (c *conn) handOff(start time.Time) {
	if !c.flush() {
		return
	}
	_ = c.nc.SetDeadline(time.Time{})
	rc := &replayConn{Conn: c.nc, pending: append([]byte(nil), c.buf...)}
	if !start.IsZero() {
		rc.headBy.Store(start.Add(c.f.cfg.ReadHeader).UnixNano())
	}
	if !c.f.http.give(rc) {
		c.nc.Close()
	}
}

// lingerClose half-closes the connection, reads until the client closes
// or lingerTime passes, and closes.
func (c *conn) lingerClose() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = c.nc.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.Copy(io.Discard, c.nc)
	}
	c.nc.Close()
}

// The Date header, formatted once a second.
type dateLine struct {
	sec int64
	b   []byte
}

var date atomic.Pointer[dateLine]

func appendDate(b []byte) []byte {
	now := time.Now()
	d := date.Load()
	if d == nil || d.sec != now.Unix() {
		d = &dateLine{sec: now.Unix(), b: now.UTC().AppendFormat(nil, http.TimeFormat)}
		date.Store(d)
	}
	return append(b, d.b...)
}

// chanListener is the listener net/http serves: it yields the connections
// the front hands over.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) give(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// replayConn is a handed-over connection: it reads the bytes the front had
// read first.
type replayConn struct {
	net.Conn
	pending []byte
	// headBy (Unix nanoseconds, 0 for none) is when the head the front
	// had begun to read is due: net/http's first read deadline, the one
	// for that head, is never later, so that a hand-over does not restart
	// a slow client's clock.
	headBy atomic.Int64
}

func (c *replayConn) SetReadDeadline(t time.Time) error {
	if n := c.headBy.Swap(0); n != 0 {
		if by := time.Unix(0, n); t.IsZero() || t.After(by) {
			t = by
		}
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *replayConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite keeps net/http's half-close working through the wrapper.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
