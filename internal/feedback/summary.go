package feedback

import (
	"context"

	"github.com/porthole/porthole/internal/store"
)

// Summary is what a port page says about its feedback ("12 people found this helpful"). It is data only: the
// site's templates choose the words and plural forms for each language.
type Summary struct {
	Port      int
	Lang      string // "" when it counts every language
	Unhelpful int64
	Neutral   int64
	Helpful   int64
	Total     int64
	// HelpfulPercent is Helpful as a whole percentage of Total, rounded down; 0 when Total is 0.
	HelpfulPercent int
}

// Summarize counts the answers about port in lang ("" for every language).
func Summarize(ctx context.Context, st store.Store, port int, lang string) (Summary, error) {
	c, err := st.Summary(ctx, port, lang)
	if err != nil {
		return Summary{}, err
	}
	return newSummary(port, lang, c), nil
}

func newSummary(port int, lang string, c store.Counts) Summary {
	s := Summary{Port: port, Lang: lang, Unhelpful: c.Unhelpful, Neutral: c.Neutral, Helpful: c.Helpful, Total: c.Total()}
	if s.Total > 0 {
		s.HelpfulPercent = int(s.Helpful * 100 / s.Total)
	}
	return s
}
