package ports

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
	}{
		{"2556", Spec{Low: 2556, High: 2556}},
		{"0", Spec{}},
		{"65535", Spec{Low: 65535, High: 65535}},
		{"tcp/2556", Spec{Proto: TCP, Low: 2556, High: 2556}},
		{"UDP/53", Spec{Proto: UDP, Low: 53, High: 53}},
		{"2556/tcp", Spec{Proto: TCP, Low: 2556, High: 2556}},
		{"sctp/80", Spec{Proto: SCTP, Low: 80, High: 80}},
		{"6000-6063", Spec{Low: 6000, High: 6063}},
		{"tcp/6000-6063", Spec{Proto: TCP, Low: 6000, High: 6063}},
		{"22-22", Spec{Low: 22, High: 22}},
		{" 80 ", Spec{Low: 80, High: 80}},
		{"080", Spec{Low: 80, High: 80}},
		{"00000000000000000000080", Spec{Low: 80, High: 80}},
		{"0000000000000000000000", Spec{}},
		{"000000000000000000000080-0000000000000000000443", Spec{Low: 80, High: 443}},
		{"http", Spec{Service: "http"}},
		{"tcp/http", Spec{Proto: TCP, Service: "http"}},
		{"whois++", Spec{Service: "whois++"}},
		{"sql*net", Spec{Service: "sql*net"}},
		{"z39.50", Spec{Service: "z39.50"}},
		{"914c/g", Spec{Service: "914c/g"}},
		{"abc", Spec{Service: "abc"}},
	}
	for _, tc := range tests {
		got, err := ParseSpec(tc.in)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseSpec(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"", "empty"},
		{"   ", "empty"},
		{"65536", "larger than 65535"},
		{"99999999999999999999", "larger than 65535"},
		{"000000000000000000065536", "65536 is larger than 65535"},
		{"-1", "negative"},
		{"22-10", "runs backwards; write 10-22"},
		{"tcp/", "needs a port"},
		{"/80", "unknown protocol"},
		// "cl/1" is a registry name, but x/NUMBER reads as a protocol and
		// a port; `porthole search cl/1` finds the name.
		{"cl/1", `unknown protocol "cl"`},
		{"icmp/7", `unknown protocol "icmp"`},
		{"6000-", "number on each side"},
		{"1-2-3", "not a port number"},
		{"80:tcp", "neither a port number nor a service name"},
		{"http!", "neither"},
		{strings.Repeat("a", 65), "too long"},
		{"+5", "not a port number"},
		{"0x50", `"0x50" is hexadecimal; ports are read in decimal: write 80`},
		{"0XFFFF", "write 65535"},
		{"tcp/0x1bb", "write 443"},
	}
	for _, tc := range tests {
		_, err := ParseSpec(tc.in)
		var se *SpecError
		if !errors.As(err, &se) || !errors.Is(err, ErrBadSpec) {
			t.Errorf("ParseSpec(%q) = %v, want a *SpecError", tc.in, err)
			continue
		}
		if se.Token != tc.in {
			t.Errorf("ParseSpec(%q): token %q", tc.in, se.Token)
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("ParseSpec(%q) = %q, want it to say %q", tc.in, err, tc.reason)
		}
	}
}

func TestRanges(t *testing.T) {
	if WellKnown.Size()+Registered.Size()+Dynamic.Size() != 65536 {
		t.Fatal("ranges do not tile 0-65535")
	}
	if Registered.Size() != 48128 || Dynamic.Size() != 16384 || WellKnown.Size() != 1024 {
		t.Errorf("sizes %d %d %d", WellKnown.Size(), Registered.Size(), Dynamic.Size())
	}
	for p, want := range map[int]Range{0: WellKnown, 1023: WellKnown, 1024: Registered, 2556: Registered, 49151: Registered, 49152: Dynamic, 65535: Dynamic} {
		if got := RangeOf(p); got != want {
			t.Errorf("RangeOf(%d) = %s", p, got.Name)
		}
	}
	for _, n := range []string{"system", "user", "ephemeral", "Registered"} {
		if _, ok := RangeByName(n); !ok {
			t.Errorf("RangeByName(%q) failed", n)
		}
	}
}

func TestSpecString(t *testing.T) {
	for _, in := range []string{"2556", "tcp/2556", "udp/6000-6063", "http", "tcp/http"} {
		s, err := ParseSpec(in)
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != in {
			t.Errorf("%q round-trips as %q", in, s.String())
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"2556", "tcp/2556", "2556/udp", "6000-6063", "http", "-1", "", "tcp/", "65536", "a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSpec(in)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || se.Token != in {
				t.Fatalf("error %v does not name the token", err)
			}
			return
		}
		if s.IsService() {
			if s.Service == "" {
				t.Fatal("empty service")
			}
		} else if s.Low < 0 || s.High > Max || s.Low > s.High {
			t.Fatalf("bad numbers %+v", s)
		}
		// The canonical form parses to the same spec.
		again, err := ParseSpec(s.String())
		if err != nil || again != s {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", in, s, s.String(), again, err)
		}
	})
}

// A bad token is quoted whole when short and cut to MaxQuotedToken
// characters (never inside one) with an ellipsis when long.
func TestSpecErrorCutsLongTokens(t *testing.T) {
	long := strings.Repeat("한", 10000)
	_, err := ParseSpec(long)
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	want := `bad port "` + strings.Repeat("한", MaxQuotedToken) + `"…`
	if !strings.HasPrefix(msg, want) || len(msg) > 400 {
		t.Errorf("message (%d bytes) %.200q, want it to start %q and stay short", len(msg), msg, want)
	}
	if _, err := ParseSpec("tcp/99999"); err == nil || !strings.Contains(err.Error(), `"tcp/99999"`) {
		t.Errorf("short token not quoted whole: %v", err)
	}
	if got := QuoteToken("\x1b[31mred\xff"); got != `"\x1b[31mred\xff"` {
		t.Errorf("QuoteToken escapes %q", got)
	}
}

// A Proto is its name in JSON (baseline --json writes rules' protocols).
func TestProtoText(t *testing.T) {
	for _, p := range append([]Proto{ProtoNone}, Protos[:]...) {
		b, err := p.MarshalText()
		if err != nil || string(b) != p.String() {
			t.Errorf("%v: %q %v", p, b, err)
		}
		var back Proto
		if err := back.UnmarshalText(b); err != nil || back != p {
			t.Errorf("%q read back as %v, %v", b, back, err)
		}
	}
	var p Proto
	if err := p.UnmarshalText([]byte("icmp")); err == nil {
		t.Error("icmp: no error")
	}
}
