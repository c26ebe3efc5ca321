package web

import (
	"strings"
	"testing"
)

func TestPageCacheBudget(t *testing.T) {
	c := newPageCache(1000)
	mk := func(k string) *entry { return &entry{key: k, body: []byte(strings.Repeat("x", 196))} } // 200 bytes each
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		c.put(mk(k))
	}
	if c.size > 1000 {
		t.Fatalf("size %d over the budget", c.size)
	}
	c.get("a") // used: survives the next eviction
	c.put(mk("f"))
	if c.get("a") == nil {
		t.Errorf("a recently used entry was evicted")
	}
	if c.get("b") != nil {
		t.Errorf("the least recently used entry is still cached")
	}
	if c.size > 1000 || len(c.items) != c.ll.Len() {
		t.Errorf("size %d, %d items, list of %d", c.size, len(c.items), c.ll.Len())
	}
	big := &entry{key: "big", body: make([]byte, 600)}
	c.put(big)
	if c.get("big") != nil {
		t.Errorf("an entry larger than a quarter of the budget was cached")
	}
	off := newPageCache(-1)
	off.put(mk("a"))
	if off.get("a") != nil {
		t.Errorf("a disabled cache returned an entry")
	}
}

func TestCached(t *testing.T) {
	s := testSite(t, Options{})
	h := s.Handler()
	if _, ok := s.Cached("/ports/2556"); ok {
		t.Fatal("a page never rendered is cached")
	}
	get(t, h, "/ports/2556")
	get(t, h, "/ko/ports/2556")
	for _, path := range []string{"/ports/2556", "/ko/ports/2556"} {
		p, ok := s.Cached(path)
		if !ok {
			t.Fatalf("%s: not cached after a GET", path)
		}
		if again, _ := s.Cached(path); again != p {
			t.Errorf("%s: two lookups, two pages", path)
		}
		plain, gz := p.Bodies()
		if r := get(t, h, path); r.body != string(plain) || len(gz) == 0 {
			t.Errorf("%s: the cached body is not the one served, or has no gzip form", path)
		}
	}
	for _, path := range []string{"/ports/02556", "/ports/2556/", "/ports/2556?thanks=1", "/ports/0-1023", "/", "/stats",
		"/en/ports/2556", "/ko/ports/", "//ports/2556", "/ports/65536"} {
		if _, ok := s.Cached(path); ok {
			t.Errorf("Cached(%q) found a page", path)
		}
	}
}
