package webfast

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/web"
)

// A request net/http answers before (or without) a CRLF CRLF, sent on its
// own with the connection left open: bare LF line ends (what a person
// typing into nc sends) and a head net/http refuses at its first bad line.
// The front must not sit on it until the header timeout.
func TestAnsweredWithoutCRLFCRLF(t *testing.T) {
	p := newPair(t, false)
	for _, req := range []string{
		"GET /ports/2556 HTTP/1.0\nHost: localhost\n\n",
		"GET /ports/2556 HTTP/1.1\nHost: localhost\nConnection: close\n\n",
		"GET /ports/2556 HTTP/1.1\r\nHost: localhost\nConnection: close\n\n",
		"GET /ports/2556 HTTP/1.1\r\nHost localhost\r\n",
		"GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\n",
	} {
		for round := range 2 {
			plain := normalise(exchange(t, p.plain, 0, req))
			fast := normalise(exchange(t, p.fast, 0, req))
			if !bytes.Equal(plain, fast) || len(plain) == 0 {
				t.Errorf("%q, round %d: net/http\n%s\nfront\n%s", req, round, head(plain), head(fast))
			}
		}
	}
}

// A head the front hands over part-read gets no more time from net/http
// than the header timeout counted from its first byte: the hand-over must
// not restart the clock (a slow client would hold a connection twice as
// long through the front).
func TestHandOffKeepsHeaderDeadline(t *testing.T) {
	to := testTimeouts
	to.ReadHeader = 2 * time.Second
	to.Read = 10 * time.Second
	p := newPairWith(t, false, nil, to)
	// 0 s: the request line; 1 s: more than maxHead, so the front hands
	// the connection over; 2.5 s: the end of the head, late.
	chunks := []string{
		"GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n",
		"X-A: b\r\n",
		"X-Big: " + strings.Repeat("a", maxHead) + "\r\n",
		"X-A: b\r\n",
		"X-A: b\r\n",
		"Connection: close\r\n\r\n",
	}
	for _, addr := range []string{p.plain, p.fast} {
		if out := exchange(t, addr, 500*time.Millisecond, chunks...); len(out) != 0 {
			t.Errorf("%s answered a head that ended after the header timeout:\n%s", addr, head(out))
		}
	}
}

// A panic in a connection's goroutine (here from the page lookup) is
// recovered and logged: the server keeps serving.
func TestPanicRecovered(t *testing.T) {
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	p := newPairLog(t, func(f lookupFunc) lookupFunc {
		return func(path string) (web.CachedPage, bool) {
			if path == "/ports/666" {
				panic("boom")
			}
			return f(path)
		}
	}, log)
	exchange(t, p.fast, 0, "GET /ports/666 HTTP/1.1\r\nHost: localhost\r\n\r\n")
	out := exchange(t, p.fast, 0, closer)
	if !bytes.HasPrefix(out, []byte("HTTP/1.1 200 OK\r\n")) {
		t.Errorf("after a panic: %q", out)
	}
	if !strings.Contains(logBuf.String(), "boom") {
		t.Errorf("the panic was not logged: %q", logBuf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newPairLog is newPairWith with the front's own log.
func newPairLog(t *testing.T, wrap func(lookupFunc) lookupFunc, log *slog.Logger) *pair {
	p := newPairWith(t, false, wrap, testTimeouts)
	p.front.cfg.Log = log
	return p
}

// A recording the handler made for another page than the one looked up
// (the cache replaced the page and put back one with the same identity
// meanwhile; here a lookup that answers /ports/2556 with /ports/22's
// page) is not kept: the slot would answer /ports/22 with /ports/2556.
func TestRecordingMustBeThePage(t *testing.T) {
	p := newPairWith(t, false, func(f lookupFunc) lookupFunc {
		return func(path string) (web.CachedPage, bool) {
			if path == "/ports/2556" {
				return f("/ports/22")
			}
			return f(path)
		}
	}, testTimeouts)
	req := func(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n" }
	exchange(t, p.fast, 0, req("/ports/22"), closer)   // net/http caches /ports/22
	exchange(t, p.fast, 0, req("/ports/2556"), closer) // and /ports/2556 (and the front records something)
	exchange(t, p.fast, 0, req("/ports/2556"), closer)
	for range 2 {
		plain := normalise(exchange(t, p.plain, 0, req("/ports/22"), closer))
		fast := normalise(exchange(t, p.fast, 0, req("/ports/22"), closer))
		if !bytes.Equal(plain, fast) {
			t.Fatalf("/ports/22: net/http\n%s\nfront\n%s", head(plain), head(fast))
		}
	}
}

// A response the front sends once Shutdown has begun says the connection
// closes (Connection: close in HTTP/1.1, no keep-alive in 1.0), as
// net/http's do, and the connection then closes.
func TestShutdownSaysClose(t *testing.T) {
	for _, req := range []string{
		"GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /ports/2556 HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n",
	} {
		to := testTimeouts
		to.Idle = time.Hour
		p := newPairWith(t, false, nil, to)
		exchange(t, p.fast, 0, req, closer)
		exchange(t, p.fast, 0, req, closer)
		c, err := net.Dial("tcp", p.fast)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		// Half a request: the connection is in the middle of one when
		// the shutdown starts, so the front finishes it.
		if _, err := io.WriteString(c, req[:20]); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the front to read the half request", func() bool { return p.front.reading(c.LocalAddr().String()) })
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done <- p.front.Shutdown(ctx)
		}()
		waitFor(t, "Shutdown to begin", p.front.isClosed)
		if _, err := io.WriteString(c, req[20:]); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !resp.Close {
			t.Errorf("%q during shutdown: status %d, Connection %q", req, resp.StatusCode, resp.Header.Get("Connection"))
		}
		if _, err := br.ReadByte(); err == nil {
			t.Errorf("%q: the connection stayed open after the response", req)
		}
		if err := <-done; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
}

// Shutdown closes connections that have sent nothing yet and waits for a
// response in flight until its context ends, then cuts it; it never hangs.
func TestShutdownWaitsThenCuts(t *testing.T) {
	to := testTimeouts
	to.ReadHeader = time.Hour
	to.Write = time.Hour
	to.Idle = time.Hour
	p := newPairWith(t, false, nil, to)
	req := "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	exchange(t, p.fast, 0, req, closer)
	exchange(t, p.fast, 0, req, closer)
	silent, err := net.Dial("tcp", p.fast)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// A client that asks for many pages and reads none: the front's write
	// blocks once the socket buffers are full.
	greedy, err := net.Dial("tcp", p.fast)
	if err != nil {
		t.Fatal(err)
	}
	defer greedy.Close()
	_ = greedy.(*net.TCPConn).SetReadBuffer(4 << 10)
	go func() { _, _ = io.WriteString(greedy, strings.Repeat(req, 2000)) }()
	_ = greedy.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := greedy.Read(make([]byte, 1)); err != nil { // the front is answering
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = p.front.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a response stuck in flight: %v, want the context's error", err)
	}
	_ = silent.SetDeadline(time.Now().Add(10 * time.Second))
	if b, err := silent.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("a connection that sent nothing is still open after Shutdown (%d, %v)", b, err)
	}
	_ = greedy.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, greedy); err != nil && strings.Contains(err.Error(), "timeout") {
		t.Error("the stuck connection is still open after Shutdown gave up")
	}
}

// In local mode the page of a port shows what listens on it here: once a
// listener closes, the front answers with the page net/http now renders,
// never the one it recorded while the listener was open.
func TestLocalSectionFollowsListeners(t *testing.T) {
	p := newPair(t, true)
	ln := listen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	req := "GET /ports/" + strconv.Itoa(port) + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
	get := func(addr string) []byte { return normalise(exchange(t, addr, 0, req, closer)) }
	for range 2 {
		get(p.fast) // net/http renders and caches the page, the front records it
	}
	open := get(p.fast)
	if plain := get(p.plain); !bytes.Equal(open, plain) {
		t.Fatalf("with the listener open: net/http\n%s\nfront\n%s", head(plain), head(open))
	}
	ln.Close()
	deadline := time.Now().Add(20 * time.Second)
	var plain []byte
	for plain = get(p.plain); bytes.Equal(plain, open); plain = get(p.plain) {
		if time.Now().After(deadline) {
			t.Fatal("net/http's page never changed after the listener closed")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for range 2 {
		if fast := get(p.fast); !bytes.Equal(fast, plain) {
			t.Errorf("after the listener closed: net/http\n%s\nfront\n%s", head(plain), head(fast))
		}
	}
}

// A head the front gives up on half-way (a cookie, a body, another method,
// bare LF) is handed over with what it read, and what comes after reaches
// net/http once and in order: the same answers as net/http alone.
func TestHandOffMidHead(t *testing.T) {
	p := newPair(t, false)
	fast := "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	for _, chunks := range [][]string{
		{fast + "GET /ports/2556 HTTP/1.1\r\nCookie: a", "=b\r\nHost: localhost\r\n\r\n", fast, closer},
		{fast + "POST /feedback HTTP/1.1\r\nHost: localhost\r\nContent-Length: 7\r\n", "\r\nport=2", "2", fast, closer},
		{fast + "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\n", "abc", fast, closer},
		{"GET /ports/2556 HTTP/1.1\nHo", "st: localhost\n\n", fast, closer},
		{fast + "P", "UT /ports/2556 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", closer},
		{fast + "GET /ports/2556 HTTP/1.1\r\n", "Transfer-Encoding: chunked\r\nHost: localhost\r\n\r\n", "3\r\nabc\r\n0\r\n\r\n", fast, closer},
	} {
		for round := range 2 {
			plain := normalise(exchange(t, p.plain, 100*time.Millisecond, chunks...))
			got := normalise(exchange(t, p.fast, 100*time.Millisecond, chunks...))
			if !bytes.Equal(plain, got) {
				t.Errorf("%q, round %d: net/http\n%s\nfront\n%s", chunks, round, head(plain), head(got))
			}
		}
	}
}

// waitFor polls cond until it holds, failing the test after 10 s (a guard
// against a hang, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// reading reports whether the front owns a connection from the client
// address remote that has read part of a request.
func (f *Front) reading(remote string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		if c.nc.RemoteAddr().String() == remote && !c.idle.Load() {
			return true
		}
	}
	return false
}

// Every connection the front takes ends up answered and closed, handed to
// net/http, or cut off by a timeout: none stays the front's for good.
func TestNoConnectionLeft(t *testing.T) {
	p := newPair(t, false)
	req := "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	exchange(t, p.fast, 0, req, closer)
	exchange(t, p.fast, 0, req, closer)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", p.fast)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			switch i % 5 {
			case 0: // answered by the front, then closed by the client
				_, _ = io.WriteString(c, req)
				_, _ = c.Read(make([]byte, 1))
			case 1: // handed over
				_, _ = io.WriteString(c, "POST /feedback HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nx")
				_, _ = c.Read(make([]byte, 1))
			case 2: // silent: the header timeout
				_, _ = c.Read(make([]byte, 1))
			case 3: // half a head, then EOF
				_, _ = io.WriteString(c, req[:10])
				_ = c.(*net.TCPConn).CloseWrite()
				_, _ = io.Copy(io.Discard, c)
			case 4: // kept alive, then the idle timeout
				_, _ = io.WriteString(c, req)
				_, _ = io.Copy(io.Discard, c)
			}
		}()
	}
	wg.Wait()
	waitFor(t, "the front to own no connection", func() bool {
		p.front.mu.Lock()
		defer p.front.mu.Unlock()
		return len(p.front.conns) == 0
	})
}
