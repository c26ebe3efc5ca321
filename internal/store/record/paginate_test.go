package record

import (
	"errors"
	"testing"
)

func TestPaginate(t *testing.T) {
	// Ids with gaps, as after deletes: 3, 6, 9, …
	var rows []Feedback
	for i := int64(1); i <= 2*ExportPage+7; i++ {
		rows = append(rows, Feedback{ID: 3 * i})
	}
	fetches := 0
	fetch := func(after int64, limit int) ([]Feedback, error) {
		fetches++
		var out []Feedback
		for _, r := range rows {
			if r.ID > after && len(out) < limit {
				out = append(out, r)
			}
		}
		return out, nil
	}
	var got []int64
	if err := Paginate(fetch, func(f Feedback) error { got = append(got, f.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) || fetches != 3 {
		t.Fatalf("%d rows in %d fetches, want %d in 3", len(got), fetches, len(rows))
	}
	for i, id := range got {
		if id != rows[i].ID {
			t.Fatalf("row %d: id %d, want %d", i, id, rows[i].ID)
		}
	}

	// An exact multiple of the page needs one more, empty, fetch.
	rows, fetches = rows[:ExportPage], 0
	if err := Paginate(fetch, func(Feedback) error { return nil }); err != nil || fetches != 2 {
		t.Fatalf("one full page: %d fetches, %v", fetches, err)
	}

	// fn's error and fetch's error end the export.
	stop := errors.New("stop")
	n := 0
	if err := Paginate(fetch, func(Feedback) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("fn error: %v after %d rows", err, n)
	}
	broken := func(int64, int) ([]Feedback, error) { return nil, stop }
	if err := Paginate(broken, func(Feedback) error { t.Fatal("fn called"); return nil }); err != stop {
		t.Fatalf("fetch error: %v", err)
	}
}
