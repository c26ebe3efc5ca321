package webfast

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that never finishes its request head is cut off by the header
// timeout on both paths, with nothing sent.
func TestSlowloris(t *testing.T) {
	p := newPair(t, false)
	chunks := []string{"GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n"}
	for range 40 {
		chunks = append(chunks, "X-A: b\r\n")
	}
	post := append([]string{"POST /feedback HTTP/1.1\r\nHost: localhost\r\n"}, chunks[1:]...)
	for _, addr := range []string{p.plain, p.fast} {
		for _, c := range [][]string{chunks, post} {
			if out := exchange(t, addr, 200*time.Millisecond, c...); len(out) != 0 {
				t.Errorf("%s answered a request that never ended:\n%s", addr, head(out))
			}
		}
	}
}

// A connection that sends nothing, before its first request or after a
// response, is closed by the header or idle timeout on both paths.
func TestIdleClosed(t *testing.T) {
	p := newPair(t, false)
	req := "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	for range 2 {
		exchange(t, p.plain, 0, req, closer) // cache and record the page
		exchange(t, p.fast, 0, req, closer)
	}
	plain := normalise(exchange(t, p.plain, 0, req))
	fast := normalise(exchange(t, p.fast, 0, req))
	if !bytes.Equal(plain, fast) || !bytes.HasPrefix(fast, []byte("HTTP/1.1 200 OK\r\n")) {
		t.Errorf("after an idle wait: net/http\n%s\nfront\n%s", head(plain), head(fast))
	}
	if out := exchange(t, p.fast, 0); len(out) != 0 {
		t.Errorf("the front answered a connection that sent nothing:\n%s", head(out))
	}
}

// A request that arrives in pieces is answered the same on both paths.
func TestSplitRequest(t *testing.T) {
	p := newPair(t, false)
	for round := range 3 {
		chunks := []string{"GET /ports/25", "56 HTTP/1.1\r\nHo", "st: localhost\r\nAccept-Encoding: gzip\r", "\n\r\n", closer}
		plain := normalise(exchange(t, p.plain, 50*time.Millisecond, chunks...))
		fast := normalise(exchange(t, p.fast, 50*time.Millisecond, chunks...))
		if !bytes.Equal(plain, fast) {
			t.Errorf("round %d: net/http\n%s\nfront\n%s", round, head(plain), head(fast))
		}
	}
}

// A client that half-closes its side in the middle of a request head gets
// net/http's answer from both.
func TestPartialThenEOF(t *testing.T) {
	p := newPair(t, false)
	for _, req := range []string{
		"GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n",
		"GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /ports/2556 HTT",
		"GET /por",
	} {
		plain := normalise(halfClose(t, p.plain, req))
		fast := normalise(halfClose(t, p.fast, req))
		if !bytes.Equal(plain, fast) {
			t.Errorf("%q: net/http\n%s\nfront\n%s", req, head(plain), head(fast))
		}
	}
}

func halfClose(t *testing.T, addr, req string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil && !isReset(err) {
		t.Fatal(err)
	}
	return out
}

// Close ends the connections that wait for a request.
func TestCloseEndsIdle(t *testing.T) {
	// A long idle timeout: only Close can end the connection.
	to := testTimeouts
	to.Idle = time.Hour
	p := newPairWith(t, false, nil, to)
	req := "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	exchange(t, p.fast, 0, req, closer) // net/http renders and caches the page
	exchange(t, p.fast, 0, req, closer) // the front records it
	c, err := net.Dial("tcp", p.fast)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	for range 2 { // answered by the front: the connection stays its own
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err := p.front.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := br.ReadByte(); err == nil {
		t.Fatalf("read %q after Close, want the connection closed", b)
	} else if strings.Contains(err.Error(), "timeout") {
		t.Fatal("the idle connection was not closed")
	}
}
