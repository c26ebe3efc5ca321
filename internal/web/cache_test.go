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
