package web

import (
	"container/list"
	"strconv"
	"sync"
	"sync/atomic"
)

// entry is a rendered response body and its validator.
type entry struct {
	key  string
	body []byte
	etag string
	// hdr holds the ETag and Content-Length values ready for the header
	// map, so a cache hit allocates nothing for them.
	hdrETag, hdrLen []string
	// gz is the body gzip-compressed, nil when compression does not pay;
	// hdrGzLen and hdrGzETag are its Content-Length and (weak) ETag.
	gz                  []byte
	hdrGzLen, hdrGzETag []string
	gzTried             bool
	used                atomic.Bool
	el                  *list.Element
	// attached is for whoever serves the page from outside the Site (the
	// fast front of porthole serve keeps its pre-serialised responses
	// here), so that what it keeps lives and dies with the cached page.
	attached atomic.Value
}

func (e *entry) headers() {
	if e.hdrLen == nil {
		e.hdrETag = []string{e.etag}
		e.hdrLen = []string{strconv.Itoa(len(e.body))}
	}
}

// pageCache keeps rendered pages within a byte budget: 131,072 port pages
// would not fit in memory, and the popular ones are few. Hits take a read
// lock and mark the entry used; eviction gives used entries a second chance
// (the CLOCK approximation of least-recently-used), so concurrent hits never
// wait for each other.
type pageCache struct {
	mu    sync.RWMutex
	max   int
	size  int
	ll    *list.List // front: newest
	items map[string]*entry
}

func newPageCache(maxBytes int) *pageCache {
	return &pageCache{max: maxBytes, ll: list.New(), items: map[string]*entry{}}
}

func (c *pageCache) get(key string) *entry {
	if c.max <= 0 {
		return nil
	}
	c.mu.RLock()
	e := c.items[key]
	c.mu.RUnlock()
	if e != nil && !e.used.Load() {
		e.used.Store(true)
	}
	return e
}

func cost(e *entry) int { return len(e.body) + len(e.gz) + len(e.key) }

func (c *pageCache) put(e *entry) {
	if c.max <= 0 || cost(e) > c.max/4 {
		return
	}
	e.headers()
	e.compress()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[e.key]; ok {
		c.ll.Remove(old.el)
		c.size -= cost(old)
	}
	e.el = c.ll.PushFront(e)
	c.items[e.key] = e
	c.size += cost(e)
	for c.size > c.max {
		el := c.ll.Back()
		old := el.Value.(*entry)
		if old.used.Load() && old != e {
			old.used.Store(false)
			c.ll.MoveToFront(el)
			continue
		}
		c.ll.Remove(el)
		delete(c.items, old.key)
		c.size -= cost(old)
	}
}
