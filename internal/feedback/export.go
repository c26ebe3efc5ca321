package feedback

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/store"
)

// Export formats.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
)

// exportRecord is the export's field naming, kept apart from the store's Go names so that renaming a field in
// Go never changes the files people have scripts for.
type exportRecord struct {
	ID      int64  `json:"id"`
	Port    int    `json:"port"`
	Lang    string `json:"lang"`
	Rating  string `json:"rating"`
	Comment string `json:"comment"`
	Created string `json:"created"`
}

func toExport(f store.Feedback) exportRecord {
	return exportRecord{f.ID, f.Port, f.Lang, f.Rating, f.Comment, f.Created.UTC().Format(time.RFC3339Nano)}
}

// Export writes every answer in ascending ID order to w, as "json" (one JSON array; <, > and & escaped as \u003c
// and so on, so a comment cannot become markup if the file is ever shown in a page, and bidi controls as \u202e
// and so on, so that it cannot reorder what an editor shows; the decoded text is exactly the stored text) or "csv"
// (a header row, then one row per answer, every field quoted; comments as DisplayComment shows them, and a quote
// before anything a spreadsheet in any locale could run as a formula: see csvField).
func Export(ctx context.Context, st store.Store, w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		return exportJSON(ctx, st, w)
	case FormatCSV:
		return exportCSV(ctx, st, w)
	}
	return fmt.Errorf("unknown export format %q (want json or csv)", format)
}

func exportJSON(ctx context.Context, st store.Store, w io.Writer) error {
	bw := bufio.NewWriter(w)
	var rec strings.Builder
	enc := json.NewEncoder(&rec) // escapes HTML by default
	sep := "[\n"
	err := st.Export(ctx, func(f store.Feedback) error {
		if _, err := bw.WriteString(sep); err != nil {
			return err
		}
		sep = ","
		rec.Reset()
		e := toExport(f)
		// Schema (docs/json.md): an empty comment is null.
		if err := enc.Encode(struct {
			ID      int64   `json:"id"`
			Port    int     `json:"port"`
			Lang    string  `json:"lang"`
			Rating  string  `json:"rating"`
			Comment *string `json:"comment"`
			Created string  `json:"created"`
		}{e.ID, e.Port, e.Lang, e.Rating, nullIfEmpty(e.Comment), e.Created}); err != nil {
			return err
		}
		_, err := bw.WriteString(jsonBidi.Replace(rec.String()))
		return err
	})
	if err != nil {
		return err
	}
	if sep == "[\n" {
		bw.WriteString("[")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func exportCSV(ctx context.Context, st store.Store, w io.Writer) error {
	bw := bufio.NewWriter(w)
	var line strings.Builder
	writeRow := func(fields ...string) error {
		line.Reset()
		for i, f := range fields {
			if i > 0 {
				line.WriteByte(',')
			}
			csvField(&line, f)
		}
		line.WriteByte('\n')
		_, err := bw.WriteString(line.String())
		return err
	}
	if err := writeRow("id", "port", "lang", "rating", "comment", "created"); err != nil {
		return err
	}
	err := st.Export(ctx, func(f store.Feedback) error {
		e := toExport(f)
		return writeRow(strconv.FormatInt(e.ID, 10), strconv.Itoa(e.Port), e.Lang, e.Rating, DisplayComment(e.Comment), e.Created)
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}
