package web

import (
	"context"
	"testing"

	"github.com/porthole/porthole/internal/i18n"
)

func BenchmarkRenderPort(b *testing.B) {
	s := testSite(b, Options{Static: true, CacheBytes: -1})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.renderPort(context.Background(), i18n.Langs[i%2], i%65536, false); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}
