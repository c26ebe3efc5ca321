package intel

import "testing"

func TestQuickLoad(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries", len(db.Entries()))
}
