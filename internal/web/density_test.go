package web

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestEmptyFieldsCollapse: the two IANA rows of 2556 have no assignee,
// contact or reference; each row says so in one line instead of a field of
// "none" per empty value, in both languages.
func TestEmptyFieldsCollapse(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	for _, tc := range []struct{ path, line, none string }{
		{"/ports/2556", "no assignee, contact or reference", ">none<"},
		{"/ko/ports/2556", "담당자, 연락처, 참고 문서 없음", ">없음<"},
	} {
		body := get(t, h, tc.path).body
		if n := strings.Count(body, `<p class="missing">`+tc.line+`</p>`); n != 2 {
			t.Errorf("%s: %d rows say %q, want 2", tc.path, n, tc.line)
		}
		if strings.Contains(body, tc.none) || strings.Contains(body, `<dl class="fields">`) {
			t.Errorf("%s: still lists empty fields", tc.path)
		}
	}
	// Filled fields are listed, and the line names only what is missing:
	// 22/tcp has a reference but no assignee or contact, 22/sctp has all three.
	body := get(t, h, "/ports/22").body
	for _, want := range []string{"<dt>reference</dt><dd>[RFC4251]</dd>", `<p class="missing">no assignee or contact</p>`, "<dt>assignee</dt><dd>[Randall_Stewart]</dd>"} {
		if !strings.Contains(body, want) {
			t.Errorf("/ports/22 lacks %s", want)
		}
	}
}

var reRangeRow = regexp.MustCompile(`<tr><th scope="row"><a href="/ports/(\d+)">\d+</a>(?:–<a href="/ports/(\d+)">\d+</a>)?</th>(.*?)</tr>`)

// TestRangeFoldsRuns: a listing folds runs of identical rows into one row
// that names its first and last port and how many it stands for, and every
// port of the page is still covered exactly once, in order. A page of the
// dynamic range whose ports all carry the same intel (found from the data:
// none, or only entries spanning the whole page, such as an operating
// system's port range) is one row, "the same on all 256 ports", in both
// languages.
func intelIDs(s *Site, port int) string {
	var ids []string
	for _, m := range s.opt.Intel.ForPort(port) {
		ids = append(ids, m.Entry.ID)
	}
	return strings.Join(ids, " ")
}

func TestRangeFoldsRuns(t *testing.T) {
	s := testSite(t, Options{})
	h := s.Handler()
	quiet := -1
	for lo := 49152; lo+255 <= 65535 && quiet < 0; lo += 256 {
		quiet = lo
		first := intelIDs(s, lo)
		for p := lo; p < lo+256; p++ {
			if intelIDs(s, p) != first {
				quiet = -1
				break
			}
		}
	}
	if quiet < 0 {
		t.Fatal("every page of the dynamic range has intel: pick another page for this test")
	}
	q := strconv.Itoa(quiet)
	for _, tc := range []struct {
		path      string
		low, high int
		want      string
		wantRows  int // 0: any
	}{
		{"/ports/" + q + "-65535", quiet, quiet + 255, "the same on all 256 ports", 1},
		{"/ko/ports/" + q + "-65535", quiet, quiet + 255, "이 목록의 포트 256개 모두 같음", 1},
		{"/ports/6000-6063", 6000, 6063, "", 0},
		{"/ports/0-1023", 0, 255, "", 0},
		{"/ports/49152-65535", 49152, 49407, "", 0},
	} {
		body := strings.ReplaceAll(get(t, h, tc.path).body, "/ko/ports/", "/ports/")
		if !strings.Contains(body, tc.want) {
			t.Errorf("%s lacks %q", tc.path, tc.want)
		}
		rows := reRangeRow.FindAllStringSubmatch(body, -1)
		if tc.wantRows != 0 && len(rows) != tc.wantRows {
			t.Errorf("%s: %d rows, want %d", tc.path, len(rows), tc.wantRows)
		}
		next := tc.low
		for _, m := range rows {
			lo, hi := atoiT(t, m[1]), atoiT(t, m[1])
			if m[2] != "" {
				hi = atoiT(t, m[2])
				n := strconv.Itoa(hi - lo + 1)
				if hi-lo+1 < minRun || !strings.Contains(m[3], " "+n+" ") && !strings.Contains(m[3], " "+n+"개") {
					t.Errorf("%s: folded row %d–%d does not say it holds %s ports: %s", tc.path, lo, hi, n, m[3])
				}
			}
			if lo != next {
				t.Fatalf("%s: row starts at %d, want %d", tc.path, lo, next)
			}
			next = hi + 1
		}
		if next != tc.high+1 {
			t.Errorf("%s: rows end at %d, want %d", tc.path, next-1, tc.high)
		}
	}
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, _, ok := parsePortNum(s)
	if !ok {
		t.Fatalf("bad port %q", s)
	}
	return n
}
