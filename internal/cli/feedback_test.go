package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/store"
)

func TestFeedbackExport(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "feedback.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{"=HYPERLINK(\"http://x\")", "<script>alert(1)</script>", "'; DROP TABLE feedback; --", "두 줄\n둘째 줄"}
	for i, c := range hostile {
		if _, err := st.Add(ctx, store.Feedback{Port: 2556, Lang: "en", Rating: []string{"helpful", "neutral", "unhelpful", "helpful"}[i], Comment: c, Created: testNow}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	r := run(t, "", "feedback", "export", "--db", db)
	if r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	var got []struct {
		ID      int64
		Port    int
		Rating  string
		Comment string
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v in %s", err, r.stdout)
	}
	if len(got) != len(hostile) {
		t.Fatalf("%d rows", len(got))
	}
	for i, g := range got {
		if g.Comment != hostile[i] || g.Port != 2556 {
			t.Errorf("row %d: %+v", i, g)
		}
	}
	if strings.Contains(r.stdout, "<script>") {
		t.Errorf("JSON export carries raw markup")
	}

	out := filepath.Join(t.TempDir(), "fb.csv")
	r = run(t, "", "feedback", "export", "--db", db, "--csv", "-o", out)
	if r.code != 0 {
		t.Fatalf("export --csv: %d %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "'=HYPERLINK") || strings.Contains(string(b), ",=HYPERLINK") {
		t.Errorf("formula cell not neutralised:\n%s", b)
	}
	// The export holds the users' comments: as private as the database.
	for _, p := range []string{out, db} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	// Replacing a file that was readable by everyone makes it private too.
	if err := os.Chmod(out, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "", "feedback", "export", "--db", db, "-o", out); r.code != 0 {
		t.Fatalf("export -o again: %d %s", r.code, r.stderr)
	}
	if fi, err := os.Stat(out); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("re-exported file: %v, %v", fi.Mode(), err)
	}

	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"feedback"}, ExitUsage},
		{[]string{"feedback", "export", "--json", "--csv", "--db", db}, ExitUsage},
		{[]string{"feedback", "export", "--db", filepath.Join(t.TempDir(), "none.db")}, ExitFailure},
	} {
		// With --json the error is one JSON object; otherwise one line.
		if r := run(t, "", tc.args...); r.code != tc.code || !(strings.HasPrefix(r.stderr, "porthole: ") || strings.HasPrefix(r.stderr, `{"error":`)) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, r.code, r.stderr)
		}
	}
}
