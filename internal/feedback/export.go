package feedback

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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
// and so on, so a comment cannot become markup if the file is ever shown in a page) or "csv" (a header row, then
// one row per answer; cells that a spreadsheet would run as a formula are prefixed with a quote).
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
	enc := json.NewEncoder(bw) // escapes HTML by default
	sep := "[\n"
	err := st.Export(ctx, func(f store.Feedback) error {
		if _, err := bw.WriteString(sep); err != nil {
			return err
		}
		sep = ","
		return enc.Encode(toExport(f))
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

func exportCSV(ctx context.Context, st store.Store, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"id", "port", "lang", "rating", "comment", "created"}); err != nil {
		return err
	}
	err := st.Export(ctx, func(f store.Feedback) error {
		e := toExport(f)
		return cw.Write([]string{strconv.FormatInt(e.ID, 10), strconv.Itoa(e.Port), csvCell(e.Lang),
			csvCell(e.Rating), csvCell(e.Comment), e.Created})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvCell defuses formula injection: a spreadsheet runs a cell that starts with =, +, - or @ (and, in some, a tab
// or carriage return before one of them) as a formula, so such cells get a leading apostrophe, which spreadsheets
// show as "text follows". The stored comment is unchanged; only the export is.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
