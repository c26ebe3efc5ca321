// Package storetest is the conformance suite every store.Store implementation must pass. Each implementation's
// tests call Run with a function that opens a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/testenv"
)

// Base is the first instant of the suite's fake clock; tests never read the real time.
var Base = time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC)

// NewClock returns the suite's clock: it starts at Base and moves one
// second forward on every call.
func NewClock() *testenv.Clock {
	c := testenv.NewClock(Base)
	c.Tick = time.Second
	return c
}

// Hostile holds comments that must be stored and read back byte for byte: SQL injection attempts, markup, and
// unusual but valid UTF-8.
var Hostile = []string{
	`'); DROP TABLE feedback;--`,
	`' OR '1'='1`,
	`"; DELETE FROM feedback WHERE ''='`,
	`\'; SELECT pg_sleep(10); --`,
	`$1 $2 ? ?1 :name @p1 %s %d`,
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`javascript:alert(document.cookie)`,
	"</textarea><b>bold</b>",
	"=HYPERLINK(\"http://evil.example\",\"x\")",
	"line one\nline two\r\nline three\ttabbed",
	"time=2026-01-01T00:00:00Z level=ERROR msg=forged",
	"U+2028\u2028U+2029\u2029",
	"RTL override \u202egnp.exe",
	"zero\u200bwidth\u200djoiner\ufeffBOM",
	"e\u0301 (combining) vs \u00e9 (precomposed)",
	"한국어 피드백: 이 페이지가 도움이 되었습니다",
	"emoji 😔 🤨 😃 👩‍👩‍👧‍👦 🇰🇷",
	"\U0010FFFD private use plane 16, \uFFFF noncharacter",
	"𝕱𝖗𝖆𝖐𝖙𝖚𝖗 and 🂡",
	"backslash \\ and quote ' and double \" and percent %",
	strings.Repeat("😃", 1000),
	strings.Repeat("가", 1000),
	"",
}

// Run runs the suite. open must return a new empty store for every call; Run closes what it opens.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("Hostile", func(t *testing.T) { testHostile(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Summary", func(t *testing.T) { testSummary(t, open(t)) })
	t.Run("ListOrderAndFilters", func(t *testing.T) { testList(t, open(t)) })
	t.Run("Export", func(t *testing.T) { testExport(t, open(t)) })
	t.Run("Close", func(t *testing.T) { testClose(t, open(t)) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, open(t)) })
	t.Run("CloseDuringAdds", func(t *testing.T) { testCloseDuringAdds(t, open(t)) })
}

func mustAdd(t *testing.T, s store.Store, f store.Feedback) int64 {
	t.Helper()
	id, err := s.Add(context.Background(), f)
	if err != nil {
		t.Fatalf("Add(%+v): %v", f, err)
	}
	return id
}

func closeAtEnd(t *testing.T, s store.Store) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func testRoundTrip(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	clock := NewClock()
	tests := []store.Feedback{
		{Port: 2556, Lang: "en", Rating: store.Unhelpful, Comment: "Bagle is missing", Created: clock.Now()},
		{Port: 0, Lang: "ko", Rating: store.Neutral, Created: clock.Now()},
		{Port: 65535, Lang: "en", Rating: store.Helpful, Comment: "great", Created: clock.Now()},
		{Port: 443, Lang: "pt-br", Rating: store.Helpful, Created: Base.Add(123456789 * time.Nanosecond)},
		{Port: 80, Lang: "en", Rating: store.Helpful, Created: time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("KST", 9*3600))},
	}
	var prev int64
	for _, in := range tests {
		in.ID = 999999 // ignored
		id, err := s.Add(ctx, in)
		if err != nil {
			t.Fatalf("Add(%+v): %v", in, err)
		}
		if id <= prev {
			t.Errorf("Add returned id %d after %d; want increasing ids", id, prev)
		}
		prev = id
		got, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%d): %v", id, err)
		}
		want := in
		want.ID = id
		want.Created = in.Created.UTC().Truncate(time.Microsecond)
		if got != want {
			t.Errorf("Get(%d) = %+v\nwant %+v", id, got, want)
		}
		if got.Created.Location() != time.UTC {
			t.Errorf("Get(%d).Created in %v, want UTC", id, got.Created.Location())
		}
	}
}

func testHostile(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	clock := NewClock()
	ids := map[int64]string{}
	for _, c := range Hostile {
		for _, lang := range []string{"en", "ko"} {
			ids[mustAdd(t, s, store.Feedback{Port: 2556, Lang: lang, Rating: store.Neutral, Comment: c, Created: clock.Now()})] = c
		}
	}
	for id, want := range ids {
		got, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%d): %v", id, err)
		}
		if got.Comment != want {
			t.Errorf("comment of %d = %q, want %q", id, got.Comment, want)
		}
	}
	// The table is still there and holds exactly what was added.
	n := 0
	if err := s.Export(ctx, func(f store.Feedback) error {
		n++
		if want, ok := ids[f.ID]; !ok || f.Comment != want {
			t.Errorf("export: unexpected record %d %q", f.ID, f.Comment)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(ids) {
		t.Errorf("export has %d records, want %d", n, len(ids))
	}
	// Hostile strings as filter values match nothing and break nothing.
	for _, c := range Hostile[:5] {
		got, err := s.List(ctx, store.ListOptions{Lang: c})
		if err != nil || len(got) != 0 {
			t.Errorf("List(Lang: %q) = %d records, %v; want none", c, len(got), err)
		}
		if _, err := s.Summary(ctx, 2556, c); err != nil {
			t.Errorf("Summary(lang %q): %v", c, err)
		}
	}
}

func testInvalid(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	ok := store.Feedback{Port: 22, Lang: "en", Rating: store.Helpful, Created: Base}
	tests := []struct {
		name   string
		change func(*store.Feedback)
	}{
		{"negative port", func(f *store.Feedback) { f.Port = -1 }},
		{"port too high", func(f *store.Feedback) { f.Port = 65536 }},
		{"empty rating", func(f *store.Feedback) { f.Rating = "" }},
		{"unknown rating", func(f *store.Feedback) { f.Rating = "happy" }},
		{"rating case", func(f *store.Feedback) { f.Rating = "Helpful" }},
		{"injected rating", func(f *store.Feedback) { f.Rating = "helpful' OR '1'='1" }},
		{"empty lang", func(f *store.Feedback) { f.Lang = "" }},
		{"lang upper", func(f *store.Feedback) { f.Lang = "EN" }},
		{"lang markup", func(f *store.Feedback) { f.Lang = "<b>" }},
		{"invalid utf-8", func(f *store.Feedback) { f.Comment = "bad \xff\xfe byte" }},
		{"nul", func(f *store.Feedback) { f.Comment = "nul\x00byte" }},
		{"escape", func(f *store.Feedback) { f.Comment = "\x1b[31mred" }},
		{"c1 control", func(f *store.Feedback) { f.Comment = "next\u0085line" }},
		{"too long", func(f *store.Feedback) { f.Comment = strings.Repeat("a", 1001) }},
		{"too long emoji", func(f *store.Feedback) { f.Comment = strings.Repeat("😃", 1001) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ok
			tc.change(&f)
			if id, err := s.Add(context.Background(), f); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Add = %d, %v; want ErrInvalid", id, err)
			}
		})
	}
	got, err := s.List(context.Background(), store.ListOptions{})
	if err != nil || len(got) != 0 {
		t.Errorf("after invalid adds List = %d records, %v; want none", len(got), err)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	for _, id := range []int64{0, -1, 1, 1 << 62} {
		if _, err := s.Get(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%d) on empty store: %v, want ErrNotFound", id, err)
		}
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	const workers, each = 20, 25
	ctx := context.Background()
	clock := NewClock()
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id, err := s.Add(ctx, store.Feedback{Port: 1000 + w, Lang: "en", Rating: store.Helpful,
					Comment: fmt.Sprintf("worker %d item %d", w, i), Created: clock.Now()})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if seen[id] {
					errs <- fmt.Errorf("id %d handed out twice", id)
				}
				seen[id] = true
				mu.Unlock()
				// Readers run alongside the writers.
				if _, err := s.Summary(ctx, 1000+w, ""); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != workers*each {
		t.Fatalf("%d distinct ids, want %d", len(seen), workers*each)
	}
	n := 0
	if err := s.Export(ctx, func(f store.Feedback) error {
		if !seen[f.ID] {
			t.Errorf("exported id %d was never acknowledged", f.ID)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != workers*each {
		t.Errorf("exported %d records, want exactly %d", n, workers*each)
	}
	for w := range workers {
		c, err := s.Summary(ctx, 1000+w, "en")
		if err != nil || c != (store.Counts{Helpful: each}) {
			t.Errorf("Summary(%d) = %+v, %v; want %d helpful", 1000+w, c, err, each)
		}
	}
}

func testSummary(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	clock := NewClock()
	add := func(port int, lang, rating string, n int) {
		for range n {
			mustAdd(t, s, store.Feedback{Port: port, Lang: lang, Rating: rating, Created: clock.Now()})
		}
	}
	add(2556, "en", store.Helpful, 12)
	add(2556, "en", store.Unhelpful, 3)
	add(2556, "ko", store.Helpful, 2)
	add(2556, "ko", store.Neutral, 5)
	add(22, "en", store.Neutral, 1)
	add(0, "ko", store.Unhelpful, 4)
	tests := []struct {
		port int
		lang string
		want store.Counts
	}{
		{2556, "", store.Counts{Unhelpful: 3, Neutral: 5, Helpful: 14}},
		{2556, "en", store.Counts{Unhelpful: 3, Helpful: 12}},
		{2556, "ko", store.Counts{Neutral: 5, Helpful: 2}},
		{22, "", store.Counts{Neutral: 1}},
		{22, "ko", store.Counts{}},
		{0, "", store.Counts{Unhelpful: 4}},
		{9999, "", store.Counts{}},
	}
	for _, tc := range tests {
		got, err := s.Summary(ctx, tc.port, tc.lang)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("Summary(%d, %q) = %+v, want %+v", tc.port, tc.lang, got, tc.want)
		}
	}
	ports, err := s.Ports(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.PortCounts{
		{Port: 2556, Counts: store.Counts{Unhelpful: 3, Neutral: 5, Helpful: 14}},
		{Port: 0, Counts: store.Counts{Unhelpful: 4}},
	}
	if !slices.Equal(ports, want) {
		t.Errorf("Ports(2) = %+v, want %+v", ports, want)
	}
	if all, err := s.Ports(ctx, 0); err != nil || len(all) != 3 || all[2].Port != 22 {
		t.Errorf("Ports(0) = %+v, %v; want 3 ports ending with 22", all, err)
	}
}

func testList(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	clock := NewClock()
	var ids []int64
	for i := range 30 {
		lang := []string{"en", "ko"}[i%2]
		ids = append(ids, mustAdd(t, s, store.Feedback{Port: i % 3, Lang: lang, Rating: store.Helpful,
			Comment: fmt.Sprint(i), Created: clock.Now()}))
	}
	idsOf := func(fs []store.Feedback) []int64 {
		var out []int64
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	pick := func(keep func(i int) bool) []int64 {
		var out []int64
		for i := len(ids) - 1; i >= 0; i-- {
			if keep(i) {
				out = append(out, ids[i])
			}
		}
		return out
	}
	tests := []struct {
		name string
		o    store.ListOptions
		want []int64
	}{
		{"all newest first", store.ListOptions{}, rev},
		{"limit", store.ListOptions{Limit: 5}, rev[:5]},
		{"before", store.ListOptions{BeforeID: ids[10], Limit: 3}, []int64{ids[9], ids[8], ids[7]}},
		{"port 0 is a port", store.ListOptions{ByPort: true, Port: 0}, pick(func(i int) bool { return i%3 == 0 })},
		{"port and lang", store.ListOptions{ByPort: true, Port: 1, Lang: "ko"}, pick(func(i int) bool { return i%3 == 1 && i%2 == 1 })},
		{"lang", store.ListOptions{Lang: "en"}, pick(func(i int) bool { return i%2 == 0 })},
		{"no match", store.ListOptions{ByPort: true, Port: 7}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(ctx, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(idsOf(got), tc.want) {
				t.Errorf("List(%+v) ids = %v, want %v", tc.o, idsOf(got), tc.want)
			}
			for _, f := range got {
				if f.Comment == "" || f.Created.Before(Base) {
					t.Errorf("List returned an incomplete record %+v", f)
				}
			}
		})
	}
	// Paging through with BeforeID visits every record once.
	var all []int64
	before := int64(0)
	for {
		page, err := s.List(ctx, store.ListOptions{BeforeID: before, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, idsOf(page)...)
		before = page[len(page)-1].ID
	}
	if !slices.Equal(all, rev) {
		t.Errorf("paging visited %v, want %v", all, rev)
	}
}

func testExport(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	ctx := context.Background()
	clock := NewClock()
	const n = 1234 // more than one internal page
	var want []int64
	for i := range n {
		want = append(want, mustAdd(t, s, store.Feedback{Port: i % 100, Lang: "en", Rating: store.Neutral, Created: clock.Now()}))
	}
	var got []int64
	if err := s.Export(ctx, func(f store.Feedback) error { got = append(got, f.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Export visited %d ids (first %v), want %d ascending", len(got), got[:min(len(got), 5)], n)
	}
	stop := errors.New("stop")
	calls := 0
	err := s.Export(ctx, func(store.Feedback) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("Export with failing fn = %v after %d calls, want stop after 3", err, calls)
	}
}

func testClose(t *testing.T, s store.Store) {
	mustAdd(t, s, store.Feedback{Port: 1, Lang: "en", Rating: store.Helpful, Created: Base})
	for i := range 3 {
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := s.Add(context.Background(), store.Feedback{Port: 1, Lang: "en", Rating: store.Helpful, Created: Base}); err == nil {
		t.Error("Add after Close succeeded")
	}
	if _, err := s.Get(context.Background(), 1); err == nil {
		t.Error("Get after Close succeeded")
	}
}

func testCancelled(t *testing.T, s store.Store) {
	closeAtEnd(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if id, err := s.Add(ctx, store.Feedback{Port: 1, Lang: "en", Rating: store.Helpful, Created: Base}); err == nil {
		t.Errorf("Add with a cancelled context = %d, nil; want an error", id)
	}
	got, err := s.List(context.Background(), store.ListOptions{})
	if err != nil || len(got) != 0 {
		t.Errorf("after a cancelled Add, List = %d records, %v; want none", len(got), err)
	}
}

// Close while adds are under way: every Add returns (an id or an error), nothing hangs or panics.
func testCloseDuringAdds(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := 0
	for range 8 {
		wg.Go(func() {
			for {
				_, err := s.Add(context.Background(), store.Feedback{Port: 1, Lang: "en", Rating: store.Helpful, Created: Base})
				if err != nil {
					return
				}
				mu.Lock()
				acked++
				n := acked
				mu.Unlock()
				if n > 100000 {
					t.Error("Add never failed after Close")
					return
				}
			}
		})
	}
	for {
		mu.Lock()
		n := acked
		mu.Unlock()
		if n >= 20 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
}
