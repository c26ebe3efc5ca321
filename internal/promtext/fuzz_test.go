package promtext

import "testing"

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("4242 (a) (b c) S 1 4242 4242 0 -1 4194560 100 0 0 0 3 4 0 0 20 0 1 0 777 123456 89 18446744073709551615\n"))
	f.Add([]byte("1 ()) R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseProcStat(b)
		if err != nil && st != (procStat{}) {
			t.Errorf("error %v with a result %+v", err, st)
		}
	})
}

func FuzzParseNetstat(f *testing.F) {
	f.Add([]byte("TcpExt: A\nTcpExt: 1\nIpExt: InNoRoutes InOctets OutOctets\nIpExt: 0 12 34\n"))
	f.Add([]byte("IpExt: InOctets\nIpExt:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, out, err := parseNetstat(b)
		if err != nil && (in != 0 || out != 0) {
			t.Errorf("error %v with a result %d, %d", err, in, out)
		}
	})
}

func FuzzParseBootTime(f *testing.F) {
	f.Add([]byte("cpu 1 2\nbtime 1700000000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := parseBootTime(b); err != nil && v != 0 {
			t.Errorf("error %v with %d", err, v)
		}
	})
}
