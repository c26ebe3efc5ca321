package web

import (
	"container/list"
	"sync"
)

// entry is a rendered response body and its validator.
type entry struct {
	key  string
	body []byte
	etag string
}

// pageCache keeps rendered pages, least recently used out first, within a
// byte budget: 131,072 port pages would not fit in memory, and the popular
// ones are few.
type pageCache struct {
	mu    sync.Mutex
	max   int
	size  int
	ll    *list.List
	items map[string]*list.Element
}

func newPageCache(maxBytes int) *pageCache {
	return &pageCache{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *pageCache) get(key string) *entry {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*entry)
	}
	return nil
}

func (c *pageCache) put(e *entry) {
	n := len(e.body) + len(e.key)
	if c.max <= 0 || n > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		c.size -= len(el.Value.(*entry).body) + len(e.key)
		el.Value = e
		c.ll.MoveToFront(el)
	} else {
		c.items[e.key] = c.ll.PushFront(e)
	}
	c.size += n
	for c.size > c.max {
		el := c.ll.Back()
		old := el.Value.(*entry)
		c.ll.Remove(el)
		delete(c.items, old.key)
		c.size -= len(old.body) + len(old.key)
	}
}
