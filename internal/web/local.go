package web

import (
	"context"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/sockets"
)

// localTTL is how long a port's listeners are reused: long enough that a
// burst of requests for one page asks the kernel once, short enough that a
// reload shows a new listener.
const localTTL = 2 * time.Second

// maxLocalEntries bounds the per-port cache.
const maxLocalEntries = 4096

// localRow is one listener as the page shows it.
type localRow struct {
	Proto, Addr, Port  string
	PID, Process, User string
	Exe, Container     string
	Reason             string // catalog key (owner.unknown.not-root) when there is no owner
	ExeDeleted         bool
}

// localResult is what listens on a port range, with a fingerprint of the
// rows for the page cache key.
type localResult struct {
	Rows []localRow
	Err  string
	fp   string
	at   time.Time
}

type localCache struct {
	list func(ctx context.Context, low, high int) ([]sockets.Listener, error)
	now  func() time.Time
	mu   sync.Mutex
	m    map[[2]int]*localResult
}

func newLocalCache(list func(ctx context.Context, low, high int) ([]sockets.Listener, error), now func() time.Time) *localCache {
	return &localCache{list: list, now: now, m: map[[2]int]*localResult{}}
}

// get returns the listeners on low..high, asking the system at most once per
// localTTL for each range.
func (c *localCache) get(ctx context.Context, low, high int) *localResult {
	k := [2]int{low, high}
	c.mu.Lock()
	if r, ok := c.m[k]; ok && time.Since(r.at) < localTTL {
		c.mu.Unlock()
		return r
	}
	c.mu.Unlock()
	ls, err := c.list(ctx, low, high)
	r := &localResult{at: time.Now()}
	if err != nil {
		r.Err = err.Error()
	}
	for _, l := range ls {
		row := localRow{Proto: l.Proto.String(), Addr: l.Addr.String(), Port: strconv.Itoa(l.Port)}
		if len(l.Owners) == 0 {
			// The catalog key of the reason (dossier.OwnerUnknownText's);
			// the page shows it in its own language.
			row.Reason = "owner.unknown"
			if l.OwnerUnknown != sockets.OwnerKnown {
				row.Reason += "." + l.OwnerUnknown.String()
			}
		}
		if len(l.Owners) > 0 {
			var pids, names []string
			for _, o := range l.Owners {
				pids = append(pids, strconv.Itoa(o.PID))
				if !slices.Contains(names, o.Name) {
					names = append(names, o.Name)
				}
			}
			o := l.Owners[0]
			row.PID, row.Process = strings.Join(pids, ", "), strings.Join(names, ", ")
			row.User, row.Exe, row.ExeDeleted, row.Container = o.User, o.Exe, o.ExeDeleted, o.Container
		}
		r.Rows = append(r.Rows, row)
	}
	h := fnv.New64a()
	for _, row := range r.Rows {
		for _, f := range []string{row.Proto, row.Addr, row.Port, row.PID, row.Process, row.User, row.Exe, row.Reason, row.Container} {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
	}
	h.Write([]byte(r.Err))
	r.fp = strconv.FormatUint(h.Sum64(), 36)
	c.mu.Lock()
	if len(c.m) >= maxLocalEntries {
		clear(c.m)
	}
	c.m[k] = r
	c.mu.Unlock()
	return r
}
