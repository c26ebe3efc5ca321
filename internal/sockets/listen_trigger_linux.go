package sockets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// listenTrigger counts, in the kernel, the sockets that entered or left
// TCP_LISTEN since it was loaded (listenTriggerProgram on the
// sock:inet_sock_set_state tracepoint). It needs root; where it cannot be
// loaded, count reports false and the fingerprint dumps TCP every time.
type listenTrigger struct {
	tried bool
	mapFD int // array map with the count; -1 when unavailable
	tpFD  int // the attached tracepoint; closing it detaches the program
}

// count returns the number of LISTEN transitions so far, loading the
// program on first use.
func (t *listenTrigger) count() (uint64, bool) {
	if !t.tried {
		t.tried = true
		t.mapFD, t.tpFD = -1, -1
		if m, tp, err := loadListenTrigger(); err == nil {
			t.mapFD, t.tpFD = m, tp
		}
	}
	if t.mapFD < 0 {
		return 0, false
	}
	var key uint32
	var val uint64
	var attr [32]byte
	ne := binary.NativeEndian
	ne.PutUint32(attr[0:], uint32(t.mapFD))
	ne.PutUint64(attr[8:], uint64(uintptr(unsafe.Pointer(&key))))
	ne.PutUint64(attr[16:], uint64(uintptr(unsafe.Pointer(&val))))
	if _, err := bpfSyscall(unix.BPF_MAP_LOOKUP_ELEM, attr[:]); err != nil {
		return 0, false
	}
	return val, true
}

func (t *listenTrigger) close() {
	if t.tpFD >= 0 {
		unix.Close(t.tpFD)
	}
	if t.mapFD >= 0 {
		unix.Close(t.mapFD)
	}
	*t = listenTrigger{}
}

func loadListenTrigger() (mapFD, tpFD int, err error) {
	if bpfDisabled() {
		return -1, -1, errBPFOff
	}
	if os.Geteuid() != 0 {
		return -1, -1, errors.New("listen trigger: needs root")
	}
	var mattr [20]byte
	ne := binary.NativeEndian
	ne.PutUint32(mattr[0:], unix.BPF_MAP_TYPE_ARRAY)
	ne.PutUint32(mattr[4:], 4)  // key size
	ne.PutUint32(mattr[8:], 8)  // value size
	ne.PutUint32(mattr[12:], 1) // entries
	m, err := bpfSyscall(unix.BPF_MAP_CREATE, mattr[:])
	if err != nil {
		return -1, -1, fmt.Errorf("listen trigger map: %w", err)
	}
	unix.CloseOnExec(m)
	prog, err := bpfProgLoad(unix.BPF_PROG_TYPE_RAW_TRACEPOINT, 0, listenTriggerProgram(int32(m), isBigEndian), 0)
	if err != nil {
		unix.Close(m)
		return -1, -1, err
	}
	defer unix.Close(prog) // the tracepoint holds the program
	name := []byte("inet_sock_set_state\x00")
	var tattr [16]byte
	ne.PutUint64(tattr[0:], uint64(uintptr(unsafe.Pointer(&name[0]))))
	ne.PutUint32(tattr[8:], uint32(prog))
	tp, err := bpfSyscall(unix.BPF_RAW_TRACEPOINT_OPEN, tattr[:])
	if err != nil {
		unix.Close(m)
		return -1, -1, fmt.Errorf("listen trigger attach: %w", err)
	}
	unix.CloseOnExec(tp)
	return m, tp, nil
}
