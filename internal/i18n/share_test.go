package i18n

import "testing"

func TestShare(t *testing.T) {
	for _, tc := range []struct {
		n, of int
		want  float64
	}{
		{0, 0, 0},
		{5, 0, 0},
		{1, 3, 33.3},
		{2, 3, 66.7},
		{1, 8, 12.5},   // half rounds up
		{1, 16, 6.3},   // 6.25
		{1, 2000, 0.1}, // 0.05
		{1, 2001, 0},   // 0.0499…
		{7, 7, 100},
	} {
		if got := Share(tc.n, tc.of); got != tc.want {
			t.Errorf("Share(%d, %d) = %v, want %v", tc.n, tc.of, got, tc.want)
		}
	}
}
