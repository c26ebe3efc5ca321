package sockets

import (
	"encoding/binary"
	"reflect"
	"slices"
	"testing"
)

func testLayout() iterLayout {
	return iterLayout{
		FileInode: btfField{Offset: 32, Kind: btfKindPtr, Size: 8},
		InodeIno:  btfField{Offset: 64, Kind: btfKindInt, Size: 8},
		TaskTGID:  btfField{Offset: 1268, Kind: btfKindInt, Size: 4},
		SocketSk:  btfField{Offset: 24, Kind: btfKindPtr, Size: 8},
		SkFamily:  btfField{Offset: 16, Kind: btfKindInt, Size: 2},
		SkState:   btfField{Offset: 18, Kind: btfKindInt, Size: 1},
		FuncID:    7,
	}
}

// decodeProgram is the inverse of the encoder, for checks.
func decodeProgram(b []byte, big bool) []bpfInsn {
	var out []bpfInsn
	for ; len(b) >= 8; b = b[8:] {
		in := bpfInsn{code: b[0]}
		if big {
			in.dst, in.src = b[1]>>4, b[1]&0xf
			in.off, in.imm = int16(binary.BigEndian.Uint16(b[2:])), int32(binary.BigEndian.Uint32(b[4:]))
		} else {
			in.dst, in.src = b[1]&0xf, b[1]>>4
			in.off, in.imm = int16(binary.LittleEndian.Uint16(b[2:])), int32(binary.LittleEndian.Uint32(b[4:]))
		}
		out = append(out, in)
	}
	return out
}

func TestTaskFileProgramShape(t *testing.T) {
	l := testLayout()
	le := taskFileProgram(l, false)
	if len(le)%8 != 0 {
		t.Fatalf("%d bytes", len(le))
	}
	prog := decodeProgram(le, false)
	if !reflect.DeepEqual(decodeProgram(taskFileProgram(l, true), true), prog) {
		t.Error("big- and little-endian encodings differ in content")
	}
	last := prog[len(prog)-1]
	if last.code != bpfJMP|bpfEXIT || prog[len(prog)-2] != (bpfInsn{code: bpfALU64 | bpfMOV | bpfK}) {
		t.Errorf("program does not end with r0 = 0; exit: %+v", prog[len(prog)-2:])
	}
	var calls []int32
	loads := map[int16]bool{}
	for i, in := range prog {
		switch {
		case in.code&0x07 == bpfJMP && in.code != bpfJMP|bpfCALL && in.code != bpfJMP|bpfEXIT:
			// Every jump lands forward, inside the program.
			if to := i + 1 + int(in.off); in.off < 0 || to >= len(prog) {
				t.Errorf("insn %d jumps to %d of %d", i, to, len(prog))
			}
		case in.code == bpfJMP|bpfCALL:
			calls = append(calls, in.imm)
		case in.code&0x07 == bpfLDX:
			loads[in.off] = true
		}
		if in.dst > 10 || in.src > 10 {
			t.Errorf("insn %d: register out of range: %+v", i, in)
		}
	}
	if !slices.Equal(calls, []int32{bpfFuncSockFromFile, bpfFuncSeqWrite}) {
		t.Errorf("helper calls %v", calls)
	}
	for _, f := range []btfField{l.FileInode, l.InodeIno, l.TaskTGID, l.SocketSk, l.SkFamily, l.SkState} {
		if !loads[int16(f.Offset)] {
			t.Errorf("no load at member offset %d", f.Offset)
		}
	}
}

func records(rs ...[3]uint64) ownerRecords {
	var b []byte
	for _, r := range rs {
		b = binary.NativeEndian.AppendUint32(b, uint32(r[0]))
		b = binary.NativeEndian.AppendUint32(b, uint32(r[1]))
		b = binary.NativeEndian.AppendUint64(b, r[2])
	}
	return ownerRecords(b)
}

func TestOwnerRecords(t *testing.T) {
	// {pid, fd, inode}
	r := records(
		[3]uint64{10, 3, 1000},
		[3]uint64{10, 4, 1000}, // a dup of the same socket
		[3]uint64{10, 5, 1001},
		[3]uint64{20, 3, 1000}, // inherited by a child
		[3]uint64{30, 7, 555},  // the probe
		[3]uint64{40, 3, 2000}, // not wanted
	)
	if err := r.check(); err != nil {
		t.Fatal(err)
	}
	if err := r[:len(r)-1].check(); err == nil {
		t.Error("a partial record passed the check")
	}
	if _, ok := slices.Clone(r).without(555, 31); ok {
		t.Error("the probe held by another PID passed")
	}
	if _, ok := slices.Clone(r).without(556, 30); ok {
		t.Error("a missing probe passed")
	}
	r, ok := r.without(555, 30)
	if !ok || len(r) != 5*ownerRecordSize {
		t.Fatalf("without: ok=%v, %d bytes", ok, len(r))
	}
	if got := r.pids(); !slices.Equal(got, []int{10, 20, 40}) {
		t.Errorf("pids = %v", got)
	}
	got := r.owners(map[uint64]struct{}{1000: {}, 1001: {}, 3000: {}})
	want := map[uint64][]int{1000: {10, 20}, 1001: {10}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("owners = %v, want %v", got, want)
	}
	idx := r.index()
	for ino, w := range want {
		if g := idx.get(ino); !slices.Equal(g, w) {
			t.Errorf("index: %d: %v, want %v", ino, g, w)
		}
	}
	if g := idx.get(3000); g != nil {
		t.Errorf("index: 3000: %v", g)
	}
}

func FuzzOwnerRecords(f *testing.F) {
	f.Add([]byte(records([3]uint64{1, 2, 3}, [3]uint64{4, 5, 6})), uint64(3))
	f.Fuzz(func(t *testing.T, b []byte, ino uint64) {
		r := ownerRecords(b)
		if r.check() != nil {
			return
		}
		n := 0
		for range r.all() {
			n++
		}
		if n != len(b)/ownerRecordSize {
			t.Fatalf("%d records from %d bytes", n, len(b))
		}
		found := r.owners(map[uint64]struct{}{ino: {}})
		if len(found) > 1 {
			t.Fatalf("owners of one inode: %v", found)
		}
		// The index gives what owners gives, for every inode.
		idx := r.index()
		for _, i := range r.all() {
			if got, want := idx.get(i), r.owners(map[uint64]struct{}{i: {}})[i]; !slices.Equal(got, want) {
				t.Fatalf("index: inode %d: %v, owners: %v", i, got, want)
			}
		}
		if got := idx.get(ino); len(found[ino]) == 0 && len(got) != 0 {
			t.Fatalf("index: inode %d held by %v, owners: none", ino, got)
		}
		_ = r.pids()
		rest, _ := ownerRecords(slices.Clone(b)).without(ino, 0)
		for _, i := range rest.all() {
			if i == ino {
				t.Fatal("without kept the inode")
			}
		}
	})
}

func TestListenTriggerProgramShape(t *testing.T) {
	const fd = 42
	prog := decodeProgram(listenTriggerProgram(fd, false), false)
	if !reflect.DeepEqual(decodeProgram(listenTriggerProgram(fd, true), true), prog) {
		t.Error("big- and little-endian encodings differ in content")
	}
	var mapLoads, atomics int
	for i, in := range prog {
		switch {
		case in.code == bpfLD|bpfIMM|bpfDW:
			// A 64-bit load of the map fd: two slots, the second empty.
			if in.src != bpfPseudoMapFD || in.imm != fd || i+1 >= len(prog) || prog[i+1] != (bpfInsn{}) {
				t.Errorf("insn %d: bad map load %+v", i, in)
			}
			mapLoads++
		case in.code == bpfSTX|bpfATOMIC|bpfDW:
			atomics++
		case in.code&0x07 == bpfJMP && in.code != bpfJMP|bpfCALL && in.code != bpfJMP|bpfEXIT:
			to := i + 1 + int(in.off)
			if in.off < 0 || to >= len(prog) || (to > 0 && prog[to-1].code == bpfLD|bpfIMM|bpfDW) {
				t.Errorf("insn %d jumps to %d", i, to)
			}
			if in.imm != tcpListen && in.imm != 0 {
				t.Errorf("insn %d compares with %d", i, in.imm)
			}
		case in.code&0x07 == bpfLDX && in.src == 1 && in.off != 8 && in.off != 16:
			t.Errorf("insn %d reads tracepoint argument at %d", i, in.off)
		}
	}
	if mapLoads != 1 || atomics != 1 {
		t.Errorf("%d map loads, %d atomic adds", mapLoads, atomics)
	}
	if last := prog[len(prog)-1]; last.code != bpfJMP|bpfEXIT {
		t.Errorf("last insn %+v", last)
	}
}

func TestInodeFileProgramShape(t *testing.T) {
	l := testLayout()
	inodes := []uint64{5, 1 << 40, 0xffff_ffff}
	prog := decodeProgram(inodeFileProgram(l, false, inodes), false)
	if !reflect.DeepEqual(decodeProgram(inodeFileProgram(l, true, inodes), true), prog) {
		t.Error("big- and little-endian encodings differ in content")
	}
	var got []uint64
	var calls []int32
	for i := 0; i < len(prog); i++ {
		in := prog[i]
		switch {
		case in.code == bpfLD|bpfIMM|bpfDW:
			got = append(got, uint64(uint32(in.imm))|uint64(uint32(prog[i+1].imm))<<32)
			i++ // the second half
		case in.code == bpfJMP|bpfCALL:
			calls = append(calls, in.imm)
		case in.code&0x07 == bpfJMP && in.code != bpfJMP|bpfEXIT:
			if to := i + 1 + int(in.off); in.off < 0 || to >= len(prog) {
				t.Errorf("insn %d jumps to %d of %d", i, to, len(prog))
			}
		}
	}
	if !slices.Equal(got, inodes) {
		t.Errorf("compares against %v, want %v", got, inodes)
	}
	if !slices.Equal(calls, []int32{bpfFuncSockFromFile, bpfFuncSeqWrite}) {
		t.Errorf("helper calls %v", calls)
	}
	if last := prog[len(prog)-1]; last.code != bpfJMP|bpfEXIT {
		t.Errorf("last insn %+v", last)
	}
	// At most maxInodeFilter comparisons, whatever the caller passes.
	many := make([]uint64, 2*maxInodeFilter)
	n := 0
	for _, in := range decodeProgram(inodeFileProgram(l, false, many), false) {
		if in.code == bpfLD|bpfIMM|bpfDW {
			n++
		}
	}
	if n != maxInodeFilter {
		t.Errorf("%d comparisons for %d inodes", n, len(many))
	}
}
