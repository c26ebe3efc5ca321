package fleet_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/ports"
)

func lis(proto ports.Proto, addr string, port uint16, pid int, exe string) fleet.Listener {
	return fleet.Listener{
		Key:   fleet.Key{Proto: proto, Addr: netip.MustParseAddr(addr), Port: port},
		Owner: fleet.Owner{PID: pid, UID: 0, User: "root", Exe: exe},
	}
}

func TestDiff(t *testing.T) {
	ssh := lis(ports.TCP, "0.0.0.0", 22, 100, "/usr/sbin/sshd")
	sshNew := lis(ports.TCP, "0.0.0.0", 22, 200, "/usr/sbin/sshd")
	web := lis(ports.TCP, "::", 443, 300, "/usr/sbin/nginx")
	dns := lis(ports.UDP, "127.0.0.53", 53, 400, "/usr/lib/systemd/systemd-resolved")
	odd := lis(ports.TCP, "0.0.0.0", 2556, 500, "/tmp/x")
	oddNS := odd
	oddNS.NetNS = "blue"
	worker1 := lis(ports.TCP, "::", 443, 301, "/usr/sbin/nginx")
	tests := []struct {
		name                    string
		prev, cur               []fleet.Listener
		added, removed, changed []fleet.Listener
	}{
		{name: "both empty"},
		{name: "first snapshot", cur: []fleet.Listener{web, ssh}, added: []fleet.Listener{ssh, web}},
		{name: "everything gone", prev: []fleet.Listener{ssh, web}, removed: []fleet.Listener{ssh, web}},
		{name: "same set in another order", prev: []fleet.Listener{ssh, web, dns}, cur: []fleet.Listener{dns, web, ssh}},
		{name: "restart changes the owner", prev: []fleet.Listener{ssh, web}, cur: []fleet.Listener{web, sshNew}, changed: []fleet.Listener{sshNew}},
		{name: "one of each", prev: []fleet.Listener{ssh, web}, cur: []fleet.Listener{sshNew, dns},
			added: []fleet.Listener{dns}, removed: []fleet.Listener{web}, changed: []fleet.Listener{sshNew}},
		{name: "another namespace is another listener", prev: []fleet.Listener{odd}, cur: []fleet.Listener{odd, oddNS}, added: []fleet.Listener{oddNS}},
		{name: "workers sharing a key are one listener, the lowest PID", prev: []fleet.Listener{web}, cur: []fleet.Listener{worker1, web}},
		{name: "a worker left alone is a change", prev: []fleet.Listener{web, worker1}, cur: []fleet.Listener{worker1}, changed: []fleet.Listener{worker1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := fleet.Diff(tc.prev, tc.cur)
			check := func(what string, got, want []fleet.Listener) {
				if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("added", d.Added, tc.added)
			check("removed", d.Removed, tc.removed)
			check("changed", d.Changed, tc.changed)
			if d.Empty() != (len(tc.added)+len(tc.removed)+len(tc.changed) == 0) {
				t.Errorf("Empty() = %v", d.Empty())
			}
			// Applying the delta to the old set gives the new one.
			r := fleet.Report{Kind: fleet.KindDelta, Added: d.Added, Removed: d.Removed, Changed: d.Changed}
			if got, want := fleet.Apply(tc.prev, r), fleet.Normalize(tc.cur); len(got)+len(want) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("Apply(prev, Diff) = %v, want %v", got, want)
			}
		})
	}
}

func TestApplyFullAndHeartbeat(t *testing.T) {
	a := lis(ports.TCP, "0.0.0.0", 22, 1, "/a")
	b := lis(ports.UDP, "0.0.0.0", 53, 2, "/b")
	if got := fleet.Apply([]fleet.Listener{a}, fleet.Report{Kind: fleet.KindFull, Listeners: []fleet.Listener{b}}); !reflect.DeepEqual(got, []fleet.Listener{b}) {
		t.Errorf("full: %v", got)
	}
	if got := fleet.Apply([]fleet.Listener{b, a}, fleet.Report{Kind: fleet.KindHeartbeat}); !reflect.DeepEqual(got, []fleet.Listener{a, b}) {
		t.Errorf("heartbeat: %v", got)
	}
}

func validReport() fleet.Report {
	return fleet.Report{
		Host: "web-1", Agent: "4f2a9c", Boot: "0b4e", Group: "web", Seq: 7, Kind: fleet.KindDelta, Interval: 30 * time.Second,
		Added:   []fleet.Listener{lis(ports.TCP, "0.0.0.0", 2556, 4242, "/tmp/.x/miner")},
		Removed: []fleet.Listener{{Key: fleet.Key{Proto: ports.UDP, Addr: netip.MustParseAddr("::1"), Port: 5353, NetNS: "blue"}, Owner: fleet.NoOwner}},
		Changed: []fleet.Listener{lis(ports.TCP, "fe80::1%eth0", 22, 9, "/usr/sbin/sshd")},
		Findings: []fleet.Finding{
			{Rule: "tmp-exe", Severity: "high", Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: 2556}, Reason: "runs from /tmp"},
			{Rule: "baseline-missing", Severity: "medium", Reason: "nothing listens where the baseline expects sshd"},
		},
		FindingsSet: true,
	}
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []fleet.Report{
		validReport(),
		{Host: "h", Agent: "a", Seq: 1, Kind: fleet.KindHeartbeat, Interval: time.Second},
		{Host: "h", Agent: "a", Seq: 2, Kind: fleet.KindDelta, Interval: time.Second, FindingsSet: true},
		{Host: "db.example.org", Agent: "a-b", Seq: fleet.MaxSeq, Kind: fleet.KindFull, Interval: fleet.MaxInterval,
			Listeners: []fleet.Listener{lis(ports.SCTP, "10.0.0.1", 0, 0, ""), lis(ports.DCCP, "::", 65535, fleet.MaxPID, "/x y/z")}},
	} {
		b, err := fleet.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fleet.DecodeBytes(b)
		if err != nil {
			t.Fatalf("DecodeBytes(%s): %v", b, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
		}
	}
}

// TestDecodeRejects: each hostile or absurd report is refused with an
// error that wraps ErrInvalid and names what is wrong.
func TestDecodeRejects(t *testing.T) {
	good, err := fleet.Encode(validReport())
	if err != nil {
		t.Fatal(err)
	}
	sub := func(old, new string) string {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in %s", old, good)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	tests := []struct{ name, body, want string }{
		{"empty", "", "empty body"},
		{"not an object", "[]", "array"},
		{"truncated", string(good[:len(good)-3]), "truncated"},
		{"trailing data", string(good) + "{}", "after the report"},
		{"unknown field", sub(`"seq":7`, `"seq":7,"admin":true`), "admin"},
		{"old version", sub(`"version":1`, `"version":0`), "version"},
		{"future version", sub(`"version":1`, `"version":2`), "version"},
		{"bad group", sub(`"group":"web"`, `"group":"a b"`), "group"},
		{"bad host", sub(`"host":"web-1"`, `"host":"-web"`), "host name"},
		{"host with slash", sub(`"host":"web-1"`, `"host":"a/b"`), "host name"},
		{"long host", sub(`"host":"web-1"`, `"host":"`+strings.Repeat("a", 64)+`"`), "host name"},
		{"no agent", sub(`"agent":"4f2a9c"`, `"agent":""`), "agent"},
		{"seq zero", sub(`"seq":7`, `"seq":0`), "seq"},
		{"seq negative", sub(`"seq":7`, `"seq":-1`), "seq"},
		{"seq huge", sub(`"seq":7`, `"seq":9007199254740992`), "seq"},
		{"seq float", sub(`"seq":7`, `"seq":7.5`), "seq"},
		{"seq string", sub(`"seq":7`, `"seq":"7"`), "seq"},
		{"interval zero", sub(`"interval":30`, `"interval":0`), "interval"},
		{"interval a year", sub(`"interval":30`, `"interval":31536000`), "interval"},
		{"bad kind", sub(`"kind":"delta"`, `"kind":"snapshot"`), "kind"},
		{"delta with listeners", sub(`"added"`, `"listeners"`), "listeners"},
		{"port too big", sub(`"port":2556`, `"port":70000`), "added[0].port"},
		{"port negative", sub(`"port":2556`, `"port":-1`), "added[0].port"},
		{"proto", sub(`"proto":"tcp"`, `"proto":"icmp"`), "added[0].proto"},
		{"proto upper case", sub(`"proto":"tcp"`, `"proto":"TCP"`), "added[0].proto"},
		{"address", sub(`"address":"0.0.0.0"`, `"address":"example.org"`), "added[0].address"},
		{"address not canonical", sub(`"address":"::1"`, `"address":"0:0::1"`), "removed[0].address"},
		{"pid zero", sub(`"pid":4242`, `"pid":0`), "added[0].pid"},
		{"pid huge", sub(`"pid":4242`, `"pid":99999999999`), "added[0].pid"},
		{"uid negative", sub(`"uid":0`, `"uid":-5`), "added[0].uid"},
		{"exe control", sub(`"exe":"/tmp/.x/miner"`, `"exe":"/tmp/\u001b[31mred"`), "added[0].exe"},
		{"exe NUL", sub(`"exe":"/tmp/.x/miner"`, `"exe":"/tmp/\u0000"`), "added[0].exe"},
		{"exe too long", sub(`"exe":"/tmp/.x/miner"`, `"exe":"/`+strings.Repeat("a", 5000)+`"`), "added[0].exe"},
		{"user invalid UTF-8", sub(`"user":"root"`, "\"user\":\"r\xffot\""), "UTF-8"},
		{"duplicate key", sub(`"changed":[`, `"changed":[{"proto":"tcp","address":"0.0.0.0","port":2556,"pid":1,"uid":1},`), "also added[0]"},
		{"heartbeat with listeners", sub(`"kind":"delta"`, `"kind":"heartbeat"`), "heartbeat"},
		{"bad rule", sub(`"rule":"tmp-exe"`, `"rule":"Tmp Exe"`), "findings[0].rule"},
		{"bad severity", sub(`"severity":"high"`, `"severity":"urgent"`), "findings[0].severity"},
		{"finding port", sub(`"port":2556,"reason"`, `"port":99999,"reason"`), "findings[0].port"},
		{"finding reason control", sub(`"reason":"runs from /tmp"`, `"reason":"a\u0007b"`), "findings[0].reason"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fleet.DecodeBytes([]byte(tc.body))
			if !errors.Is(err, fleet.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	body := `{"host":"` + strings.Repeat("a", fleet.MaxReportBytes) + `"}`
	_, err := fleet.Decode(strings.NewReader(body))
	if !errors.Is(err, fleet.ErrTooLarge) {
		t.Fatalf("Decode of %d bytes = %v, want ErrTooLarge", len(body), err)
	}
}

func TestDecodeTooManyListeners(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"version":1,"host":"h","agent":"a","seq":1,"kind":"full","interval":30,"listeners":[`)
	for i := range fleet.MaxListeners + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"proto":"tcp","address":"10.%d.%d.1","port":1,"pid":null,"uid":null}`, i/256%256, i%256)
	}
	b.WriteString(`]}`)
	_, err := fleet.DecodeBytes([]byte(b.String()))
	if !errors.Is(err, fleet.ErrInvalid) || !strings.Contains(err.Error(), "listeners") {
		t.Fatalf("Decode of %d listeners = %v", fleet.MaxListeners+1, err)
	}
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"a", "web-1", "db.example.org", "HOST_2", strings.Repeat("x", 63)} {
		if err := fleet.ValidName(s); err != nil {
			t.Errorf("ValidName(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "-a", ".a", "a b", "a/b", "../x", "é", strings.Repeat("x", 64), "a\n"} {
		if err := fleet.ValidName(s); err == nil {
			t.Errorf("ValidName(%q) accepted", s)
		}
	}
}

func TestStale(t *testing.T) {
	seen := time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC)
	iv := 30 * time.Second
	tests := []struct {
		now  time.Time
		want bool
	}{
		{seen, false},
		{seen.Add(3 * iv), false},
		{seen.Add(3*iv + time.Second), true},
	}
	for _, tc := range tests {
		if got := fleet.Stale(seen, iv, tc.now); got != tc.want {
			t.Errorf("Stale at +%v = %v, want %v", tc.now.Sub(seen), got, tc.want)
		}
	}
	if !fleet.Stale(time.Time{}, iv, seen) {
		t.Error("a host never seen is not stale")
	}
}

func TestKind(t *testing.T) {
	for _, k := range []fleet.Kind{fleet.KindFull, fleet.KindDelta, fleet.KindHeartbeat} {
		if got, ok := fleet.ParseKind(k.String()); !ok || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, ok)
		}
	}
	if _, ok := fleet.ParseKind(""); ok {
		t.Error(`ParseKind("") accepted`)
	}
}

// FuzzDecode: any input either decodes into a valid report that encodes and
// decodes to itself, or fails with ErrInvalid or ErrTooLarge; never a panic.
func FuzzDecode(f *testing.F) {
	good, _ := fleet.Encode(validReport())
	f.Add(good)
	f.Add([]byte(`{"version":1,"host":"h","agent":"a","seq":1,"kind":"heartbeat","interval":30}`))
	f.Add([]byte(`{"version":1,"host":"h","agent":"a","seq":1,"kind":"full","interval":30,"listeners":[{"proto":"udp","address":"::","port":53,"pid":null,"uid":null}]}`))
	f.Add([]byte(`{"version":1,"seq":1e3}`))
	f.Add([]byte(`{"version":1,"host":"h","agent":"a","seq":2,"kind":"delta","interval":30,"findings":[{"rule":"tmp-exe","severity":"high","proto":"tcp","address":"::","port":1,"reason":"x"},{"rule":"baseline-missing","severity":"low","reason":""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := fleet.DecodeBytes(b)
		if err != nil {
			if !errors.Is(err, fleet.ErrInvalid) && !errors.Is(err, fleet.ErrTooLarge) {
				t.Fatalf("error %v wraps neither ErrInvalid nor ErrTooLarge", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("decoded report fails Validate: %v", err)
		}
		again, err := fleet.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := fleet.DecodeBytes(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip changed the report:\n%+v\n%+v", r, r2)
		}
	})
}

func TestToken(t *testing.T) {
	a, err := fleet.NewToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fleet.NewToken(rand.Reader)
	if a == b || !fleet.ValidToken(a) || !fleet.ValidToken(b) {
		t.Fatalf("tokens %q, %q", a, b)
	}
	if fleet.HashToken(a) == fleet.HashToken(b) {
		t.Error("HashToken does not tell the tokens apart")
	}
	if h := fleet.HashToken(a); hex.EncodeToString(h[:]) != fmt.Sprintf("%x", sha256.Sum256([]byte(a))) {
		t.Error("HashToken is not the SHA-256 of the token")
	}
	for _, s := range []string{"", "pht_", a[:len(a)-1], a + "x", "xxx" + a[3:], a[:10] + "!" + a[11:], strings.ToUpper(a)} {
		if fleet.ValidToken(s) {
			t.Errorf("ValidToken(%q) accepted", s)
		}
	}
	if _, err := fleet.NewToken(strings.NewReader("short")); err == nil {
		t.Error("NewToken from 5 random bytes succeeded")
	}
}
