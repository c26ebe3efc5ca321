package record

// ExportPage is how many rows a store's Export reads at a time.
const ExportPage = 500

// Paginate is the loop of a store's Export: it calls fetch for the rows with
// ids above after, at most limit of them in id order (keyset pagination, so a
// row added meanwhile is neither skipped nor repeated), and fn for each row of
// a page once the page is read whole, so that a slow fn holds no query open.
// It stops at the first error of either, or after a short page.
func Paginate(fetch func(after int64, limit int) ([]Feedback, error), fn func(Feedback) error) error {
	var after int64
	for {
		batch, err := fetch(after, ExportPage)
		if err != nil {
			return err
		}
		for _, f := range batch {
			if err := fn(f); err != nil {
				return err
			}
		}
		if len(batch) < ExportPage {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}
