// Package record defines the feedback record that every store implementation keeps, its validation rules, and the
// format of the embedded schema migrations. It is a leaf package so that both implementations and the store package
// (which picks one of them) can share it without an import cycle; callers use the aliases in package store.
package record

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Ratings a visitor can give, one per face of the "Was this page helpful?" widget.
const (
	Unhelpful = "unhelpful"
	Neutral   = "neutral"
	Helpful   = "helpful"
)

// MaxCommentRunes is the longest comment accepted, counted in Unicode code points.
const MaxCommentRunes = 1000

// MaxPort is the highest port number.
const MaxPort = 65535

// Feedback is one answer to "Was this page helpful?".
type Feedback struct {
	ID      int64     // assigned by the store on Add
	Port    int       // 0–65535: the page the answer is about
	Lang    string    // language of the page, a short lowercase tag such as "en" or "ko"
	Rating  string    // Unhelpful, Neutral or Helpful
	Comment string    // optional; kept byte for byte
	Created time.Time // set by the caller from its clock; stored in UTC with microsecond precision
}

// Counts holds the number of answers per rating.
type Counts struct {
	Unhelpful int64
	Neutral   int64
	Helpful   int64
}

// Total is the number of answers of any rating.
func (c Counts) Total() int64 { return c.Unhelpful + c.Neutral + c.Helpful }

// PortCounts is the rating counts of one port (over every language).
type PortCounts struct {
	Port int
	Counts
}

// ListOptions selects and pages the records returned by List. The zero value lists the newest records first, every
// port and language, up to DefaultLimit.
type ListOptions struct {
	Port     int    // only this port, when ByPort is set
	ByPort   bool   // filter on Port (port 0 is a valid port, so the zero Port cannot mean "any")
	Lang     string // only this language; "" means any
	BeforeID int64  // only records with an ID below this one (keyset paging, newest first); 0 means no bound
	Limit    int    // at most this many; 0 means DefaultLimit; capped at MaxLimit
}

// Paging bounds for List.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// EffectiveLimit is the limit List applies for o.
func (o ListOptions) EffectiveLimit() int {
	switch {
	case o.Limit <= 0:
		return DefaultLimit
	case o.Limit > MaxLimit:
		return MaxLimit
	}
	return o.Limit
}

// Errors shared by every implementation.
var (
	ErrNotFound = errors.New("feedback not found")
	ErrInvalid  = errors.New("invalid feedback")
	ErrClosed   = errors.New("store closed")
)

// ValidRating reports whether s is one of the three ratings.
func ValidRating(s string) bool { return s == Unhelpful || s == Neutral || s == Helpful }

// Validate checks f against the rules both stores enforce. Errors wrap ErrInvalid.
func (f Feedback) Validate() error {
	if f.Port < 0 || f.Port > MaxPort {
		return fmt.Errorf("%w: port %d outside 0–%d", ErrInvalid, f.Port, MaxPort)
	}
	if !validLang(f.Lang) {
		return fmt.Errorf("%w: language tag %q", ErrInvalid, f.Lang)
	}
	if !ValidRating(f.Rating) {
		return fmt.Errorf("%w: rating %q", ErrInvalid, f.Rating)
	}
	return ValidateComment(f.Comment)
}

// ValidateComment checks a comment: valid UTF-8, at most MaxCommentRunes runes, and no control characters other
// than tab, line feed and carriage return. NUL in particular is refused because PostgreSQL text cannot hold it, and
// both stores must accept exactly the same records.
func ValidateComment(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: comment is not valid UTF-8", ErrInvalid)
	}
	n := 0
	for _, r := range s {
		n++
		if isControl(r) {
			return fmt.Errorf("%w: comment holds control character %U", ErrInvalid, r)
		}
	}
	if n > MaxCommentRunes {
		return fmt.Errorf("%w: comment has %d characters, more than %d", ErrInvalid, n, MaxCommentRunes)
	}
	return nil
}

func isControl(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	}
	return false
}

// validLang accepts 2–8 lowercase ASCII letters, optionally followed by "-" and 2–8 letters or digits ("en",
// "ko", "pt-br"); the web layer narrows this to the languages the site has.
func validLang(s string) bool {
	main, sub, hasSub := cut(s, '-')
	if !letters(main, false) {
		return false
	}
	return !hasSub || letters(sub, true)
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func letters(s string, digits bool) bool {
	if len(s) < 2 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || digits && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Normalize returns f as a store keeps it: Created in UTC, truncated to microseconds (PostgreSQL's precision), so
// that what Get returns equals what Add was given.
func (f Feedback) Normalize() Feedback {
	f.Created = f.Created.UTC().Truncate(time.Microsecond)
	return f
}
