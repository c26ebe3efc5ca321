package testenv

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
)

// RawHTTP sends req, the bytes of an HTTP request exactly as given (a forged
// Host header, a malformed request line: what an http.Client would not send),
// to the server at addr over a new TCP connection, and returns its response
// with the body read.
func RawHTTP(t testing.TB, addr, req string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
