package feedback_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store"
)

func TestExport(t *testing.T) {
	e := newEnv(t, feedback.Options{})
	comments := []string{
		"plain",
		"=HYPERLINK(\"http://evil.example\",\"click\")",
		"+1+2",
		"-2+3",
		"@SUM(A1:A9)",
		"\t=1+1",
		"<script>alert(1)</script>",
		"multi\nline, with \"quotes\"",
		"'); DROP TABLE feedback;--",
		"한국어 😃",
		"",
		"ok;=cmd|' /C calc'!A0",
		"\r=1+1",
		"fine\r\n@SUM(1)",
		"\uff1d1+1",
		"a\u202egnp.exe",
		"lone\rcr",
		"  -1, \"+2\"\t;\"=3",
	}
	ctx := context.Background()
	for i, c := range comments {
		if _, err := e.st.Add(ctx, store.Feedback{Port: 2556 + i, Lang: "en", Rating: store.Helpful, Comment: c,
			Created: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := feedback.Export(ctx, e.st, &buf, "csv"); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(comments)+1 {
			t.Fatalf("%d rows, want header + %d", len(rows), len(comments))
		}
		if got := strings.Join(rows[0], ","); got != "id,port,lang,rating,comment,created" {
			t.Errorf("header %q", got)
		}
		want := []string{"plain", "'=HYPERLINK(\"http://evil.example\",\"click\")", "'+1+2", "'-2+3", "'@SUM(A1:A9)",
			"'\t'=1+1", "<script>alert(1)</script>", "multi\nline, with \"quotes\"", "'); DROP TABLE feedback;'--",
			"한국어 😃", "", "ok;'=cmd|' /C calc'!A0", "\n'=1+1", "fine\n'@SUM(1)", "'\uff1d1+1", "a[U+202E]gnp.exe",
			"lone\ncr", "  '-1, \"'+2\"\t;\"'=3"}
		for i, row := range rows[1:] {
			if row[4] != want[i] {
				t.Errorf("row %d comment %q, want %q", i+1, row[4], want[i])
			}
			for j, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("row %d cell %d starts a formula: %q", i+1, j, cell)
				}
			}
			if strings.ContainsRune(row[4], '\r') || strings.ContainsRune(row[4], '\u202e') {
				t.Errorf("row %d comment holds a raw CR or bidi override: %q", i+1, row[4])
			}
			if row[5] != "2026-03-18T09:30:00Z" {
				t.Errorf("created %q", row[5])
			}
		}
	})
	// A spreadsheet that splits on another separator, or breaks lines inside quotes, starts a cell after any of
	// , ; TAB CR LF regardless of quotes: no such cell may start a formula either.
	t.Run("csv in any locale", func(t *testing.T) {
		var buf bytes.Buffer
		if err := feedback.Export(ctx, e.st, &buf, "csv"); err != nil {
			t.Fatal(err)
		}
		cells := strings.FieldsFunc(buf.String(), func(r rune) bool { return strings.ContainsRune(",;\t\r\n", r) })
		for _, c := range cells {
			c = strings.TrimLeft(c, ` "`)
			if c != "" && strings.ContainsAny(c[:1], "=+-@") || strings.HasPrefix(c, "\uff1d") {
				t.Errorf("a cell would start a formula: %q", c)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		if err := feedback.Export(ctx, e.st, &buf, "json"); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "<script>") {
			t.Error("JSON export holds raw markup")
		}
		if strings.ContainsAny(buf.String(), "\r\u202e") || !strings.Contains(buf.String(), `a\u202egnp.exe`) {
			t.Error("JSON export holds a raw CR or bidi override, or does not escape it as \\u202e")
		}
		var got []struct {
			ID      int64  `json:"id"`
			Port    int    `json:"port"`
			Comment string `json:"comment"`
			Created string `json:"created"`
		}
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("export is not a JSON array: %v\n%s", err, buf.String())
		}
		if len(got) != len(comments) {
			t.Fatalf("%d records, want %d", len(got), len(comments))
		}
		for i, r := range got {
			if r.Comment != comments[i] || r.Port != 2556+i {
				t.Errorf("record %d = %+v, want comment %q (unchanged: JSON needs no formula guard)", i, r, comments[i])
			}
		}
	})
	t.Run("empty store", func(t *testing.T) {
		empty := newEnv(t, feedback.Options{})
		for _, f := range []string{"json", "csv"} {
			var buf bytes.Buffer
			if err := feedback.Export(ctx, empty.st, &buf, f); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"json": "[]\n", "csv": `"id","port","lang","rating","comment","created"` + "\n"}[f]
			if buf.String() != want {
				t.Errorf("%s export of an empty store = %q, want %q", f, buf.String(), want)
			}
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		if err := feedback.Export(ctx, e.st, &bytes.Buffer{}, "xml"); err == nil {
			t.Error("xml export succeeded")
		}
	})
}
