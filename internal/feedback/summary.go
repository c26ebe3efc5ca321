package feedback

import (
	"context"
	"net/http"

	"github.com/porthole/porthole/internal/store"
)

// Summary is what a port page says about its feedback ("12 people found this helpful"). It is data only: the
// site's templates choose the words and plural forms for each language.
type Summary struct {
	Port      int    `json:"port"`
	Lang      string `json:"lang"` // "" when it counts every language
	Unhelpful int64  `json:"unhelpful"`
	Neutral   int64  `json:"neutral"`
	Helpful   int64  `json:"helpful"`
	Total     int64  `json:"total"`
	// HelpfulPercent is Helpful as a whole percentage of Total, rounded down; 0 when Total is 0.
	HelpfulPercent int `json:"helpful_percent"`
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

// getSummary serves GET SummaryPath?port=N&lang=xx: the Summary of one page's answers as JSON. Pages stay
// cacheable because their counts come from here; this answer itself is never cached.
func (h *Handler) getSummary(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	var err error
	port := 0
	if len(q["port"]) != 1 || len(q["lang"]) != 1 {
		err = bad("give port and lang once each")
	} else if port, err = parsePort(q.Get("port")); err == nil {
		// Validate checks port and lang as for a post; the rating is a placeholder that always passes.
		err = h.Validate(Input{Port: port, Lang: q.Get("lang"), Rating: store.Helpful})
	}
	if err != nil {
		h.fail(w, r, err, writeJSONError)
		return
	}
	s, err := Summarize(r.Context(), h.st, port, q.Get("lang"))
	if err != nil {
		h.log.Error("summarizing feedback", "err", err, "port", port)
		writeJSONError(w, http.StatusServiceUnavailable, "summary unavailable right now")
		return
	}
	writeJSON(w, http.StatusOK, s)
}
