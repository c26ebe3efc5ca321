package record

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name     string
		fs       fstest.MapFS
		versions []int
		err      string
	}{
		{"sorted by number", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A"), "m/README": file("x")}, []int{1, 2}, ""},
		{"ten after nine", fstest.MapFS{"m/1_a.sql": file(""), "m/2_a.sql": file(""), "m/3_a.sql": file(""), "m/4_a.sql": file(""),
			"m/5_a.sql": file(""), "m/6_a.sql": file(""), "m/7_a.sql": file(""), "m/8_a.sql": file(""), "m/9_a.sql": file(""), "m/10_a.sql": file("")},
			[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file(""), "m/0003_c.sql": file("")}, nil, "expected version 2"},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": file(""), "m/0001_b.sql": file("")}, nil, "expected version 2"},
		{"no number", fstest.MapFS{"m/init.sql": file("")}, nil, "NNNN_description.sql"},
		{"zero", fstest.MapFS{"m/0000_a.sql": file("")}, nil, "NNNN_description.sql"},
		{"missing dir", fstest.MapFS{}, nil, "reading migrations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := ReadMigrations(tc.fs, "m")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tc.versions) {
				t.Fatalf("versions %v, want %v", got, tc.versions)
			}
			for i := range got {
				if got[i] != tc.versions[i] {
					t.Fatalf("versions %v, want %v", got, tc.versions)
				}
			}
		})
	}
}

func TestValidLang(t *testing.T) {
	tests := []struct {
		lang string
		ok   bool
	}{
		{"en", true}, {"ko", true}, {"pt-br", true}, {"zh-hant", true}, {"sr-419", true},
		{"", false}, {"e", false}, {"EN", false}, {"en-", false}, {"-en", false}, {"en_us", false},
		{"abcdefghi", false}, {"en-a", false}, {"en-br-x", false}, {"한국", false}, {"en\n", false},
	}
	for _, tc := range tests {
		if got := validLang(tc.lang); got != tc.ok {
			t.Errorf("validLang(%q) = %v, want %v", tc.lang, got, tc.ok)
		}
	}
}

func TestEffectiveLimit(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, DefaultLimit}, {-5, DefaultLimit}, {1, 1}, {MaxLimit, MaxLimit}, {MaxLimit + 1, MaxLimit}} {
		if got := (ListOptions{Limit: tc.in}).EffectiveLimit(); got != tc.want {
			t.Errorf("EffectiveLimit(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
