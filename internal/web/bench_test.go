package web

import (
	"context"
	"net/http/httptest"
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
func BenchmarkServePortCached(b *testing.B) {
	h := testSite(b, Options{Local: true, Listeners: fakeListeners}).Handler()
	req := httptest.NewRequest("GET", "/ports/2556", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}
