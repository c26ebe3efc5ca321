// Package store keeps the answers to the site's "Was this page helpful?" widget.
//
// Store is the one interface; it has two real implementations, sqlite (the default: one file, no server) and
// postgres (for several serve replicas), and storetest proves that both behave the same. Open picks one by the
// data source name.
package store

import (
	"context"

	"github.com/porthole/porthole/internal/store/record"
)

// Types and errors shared with the implementations, defined in the leaf package record.
type (
	Feedback    = record.Feedback
	Counts      = record.Counts
	PortCounts  = record.PortCounts
	ListOptions = record.ListOptions
)

// Ratings.
const (
	Unhelpful = record.Unhelpful
	Neutral   = record.Neutral
	Helpful   = record.Helpful
)

var (
	ErrNotFound = record.ErrNotFound // Get of an unknown ID
	ErrInvalid  = record.ErrInvalid  // Add of a record that fails Feedback.Validate
	ErrClosed   = record.ErrClosed   // any call after Close
)

// Store keeps feedback. Every method is safe for concurrent use.
type Store interface {
	// Add validates f, stores it and returns its new ID. It returns only once the record is committed, so an ID
	// that was handed out survives a crash of the process. f.ID is ignored; a zero f.Created is stored as now.
	Add(ctx context.Context, f Feedback) (int64, error)
	// Get returns the record with this ID, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id int64) (Feedback, error)
	// List returns records newest first (by descending ID), filtered and paged by o.
	List(ctx context.Context, o ListOptions) ([]Feedback, error)
	// Summary counts the ratings of one port; lang "" counts every language.
	Summary(ctx context.Context, port int, lang string) (Counts, error)
	// Ports returns the rating counts of the limit ports with the most answers (most first, then by port).
	Ports(ctx context.Context, limit int) ([]PortCounts, error)
	// Export calls fn for every record in ascending ID order, stopping at the first error fn returns.
	Export(ctx context.Context, fn func(Feedback) error) error
	// Close releases the store. Calling it again does nothing and returns nil.
	Close() error
}

// ValidateComment checks a comment as Add does: valid UTF-8, at most 1,000 runes, no control characters other than
// tab, line feed and carriage return.
func ValidateComment(s string) error { return record.ValidateComment(s) }
