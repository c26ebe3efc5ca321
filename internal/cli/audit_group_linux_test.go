package cli

import (
	"strconv"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/audit"
)

// One real process under /tmp holding 30 listeners is one entry of the
// text report, and 30 findings of the JSON one.
func TestAuditGroupsOneProcess(t *testing.T) {
	audNeedRoot(t)
	exe := audTmpExe(t, "grouped")
	h := audStart(t, exe, "20*tcp4:0,10*udp4:0")
	args := []string{"audit"}
	for _, kind := range []string{"tcp4", "udp4"} {
		proto := kind[:3]
		for _, p := range h.ports[kind] {
			args = append(args, proto+"/"+strconv.Itoa(p))
		}
	}
	if len(args) != 31 {
		t.Fatalf("helper bound %d sockets, want 30: %v", len(args)-1, h.ports)
	}
	rep := audJSON(t, audRun(t, append([]string{args[0], "--json"}, args[1:]...)...))
	n := 0
	for _, f := range rep.Findings {
		if f.Rule == audit.RuleExeWritableDir && f.Listener != nil && f.Listener.PID != nil && *f.Listener.PID == h.pid {
			n++
		}
	}
	if n != 30 {
		t.Fatalf("JSON: %d exe-in-writable-dir findings about pid %d, want 30 (one per listener)", n, h.pid)
	}
	r := audRun(t, args...)
	flat := strings.Join(strings.Fields(r.stdout), " ") // undo the wrapping
	if r.code&auditFindings == 0 {
		t.Errorf("exit %d, want bit 1", r.code)
	}
	if c := strings.Count(r.stdout, "exe-in-writable-dir"); c != 1 {
		t.Fatalf("text names exe-in-writable-dir %d times, want once:\n%s", c, r.stdout)
	}
	for _, want := range []string{"pid " + strconv.Itoa(h.pid) + " grouped", "30 listeners", "holds these 30 listeners", exe} {
		if !strings.Contains(flat, want) {
			t.Errorf("text report lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Count(flat, "runs from /tmp") != 1 {
		t.Errorf("the reason is printed more than once:\n%s", r.stdout)
	}
}
