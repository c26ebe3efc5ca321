package sockets

import (
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
)

// The socket-owner program: a BPF "task_file" iterator (Linux 5.8+) that
// the kernel runs once for every open file of every process in the caller's
// PID namespace. For each file that is an IPv4 or IPv6 socket in state
// LISTEN or CLOSE (a TCP listener, an unconnected UDP socket, or a TCP
// socket not yet connected) it writes one 16-byte record, {tgid u32,
// fd u32, inode u64}, to the iterator's output, so one read() gives the
// listener→process map that otherwise takes a readlinkat of every
// /proc/PID/fd entry. Building the instructions and decoding the records
// are pure and untagged; loading is in owners_bpf_linux.go.

// iterLayout holds the kernel-build-specific facts the program needs,
// read from the kernel's BTF.
type iterLayout struct {
	FileInode btfField // struct file.f_inode
	InodeIno  btfField // struct inode.i_ino
	TaskTGID  btfField // struct task_struct.tgid
	SocketSk  btfField // struct socket.sk
	SkFamily  btfField // struct sock_common.skc_family (struct sock starts with it)
	SkState   btfField // struct sock_common.skc_state
	FuncID    uint32   // BTF id of the iterator target, bpf_iter_task_file
}

// iterLayoutFrom finds the layout in parsed kernel BTF and checks that the
// members have the shapes the program loads.
func iterLayoutFrom(t *btfTypes) (iterLayout, error) {
	var l iterLayout
	structs := []string{"file", "inode", "task_struct", "socket", "sock_common", "sock"}
	ids := t.findEach(btfKindStruct, structs...)
	for _, m := range []struct {
		dst           *btfField
		strct, member string
		kind          int
		sizes         []uint32
	}{
		{&l.FileInode, "file", "f_inode", btfKindPtr, []uint32{8}},
		{&l.InodeIno, "inode", "i_ino", btfKindInt, []uint32{4, 8}},
		{&l.TaskTGID, "task_struct", "tgid", btfKindInt, []uint32{4}},
		{&l.SocketSk, "socket", "sk", btfKindPtr, []uint32{8}},
		{&l.SkFamily, "sock_common", "skc_family", btfKindInt, []uint32{2}},
		{&l.SkState, "sock_common", "skc_state", btfKindInt, []uint32{1}},
	} {
		f, err := t.memberIn(ids[slices.Index(structs, m.strct)], m.strct, m.member)
		if err != nil {
			return l, err
		}
		if f.Kind != m.kind || !slices.Contains(m.sizes, f.Size) {
			return l, fmt.Errorf("BTF: %s.%s has an unexpected type", m.strct, m.member)
		}
		if f.Offset > 1<<15-1 {
			return l, fmt.Errorf("BTF: %s.%s offset %d out of reach", m.strct, m.member, f.Offset)
		}
		*m.dst = f
	}
	common, err := t.memberIn(ids[5], "sock", "__sk_common")
	if err != nil {
		return l, err
	}
	if common.Offset != 0 {
		return l, fmt.Errorf("BTF: struct sock does not start with sock_common")
	}
	id, ok := t.find(btfKindFunc, "bpf_iter_task_file")
	if !ok {
		return l, fmt.Errorf("BTF has no bpf_iter_task_file (kernel older than 5.8?)")
	}
	l.FuncID = id
	return l, nil
}

// BPF instruction fields (include/uapi/linux/bpf.h, bpf_common.h).
const (
	bpfLD    = 0x00
	bpfLDX   = 0x01
	bpfST    = 0x02
	bpfSTX   = 0x03
	bpfJMP   = 0x05
	bpfALU64 = 0x07

	bpfIMM    = 0x00
	bpfMEM    = 0x60
	bpfATOMIC = 0xc0
	bpfW      = 0x00
	bpfH      = 0x08
	bpfB      = 0x10
	bpfDW     = 0x18

	bpfK    = 0x00
	bpfX    = 0x08
	bpfMOV  = 0xb0
	bpfADD  = 0x00
	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJNE  = 0x50
	bpfCALL = 0x80
	bpfEXIT = 0x90

	bpfPseudoMapFD = 1 // src of a 64-bit immediate load: imm is a map fd

	// Helper function ids.
	bpfFuncMapLookupElem = 1
	bpfFuncSeqWrite      = 127
	bpfFuncSockFromFile  = 162
)

// The iterator context, struct bpf_iter__task_file: four 8-byte slots.
const (
	ctxMeta = 0
	ctxTask = 8
	ctxFD   = 16
	ctxFile = 24
)

type bpfInsn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

func ldx(size uint8, dst, src uint8, off int16) bpfInsn {
	return bpfInsn{code: bpfLDX | bpfMEM | size, dst: dst, src: src, off: off}
}

func stx(size uint8, dst, src uint8, off int16) bpfInsn {
	return bpfInsn{code: bpfSTX | bpfMEM | size, dst: dst, src: src, off: off}
}

func sizeCode(n uint32) uint8 {
	switch n {
	case 1:
		return bpfB
	case 2:
		return bpfH
	case 4:
		return bpfW
	}
	return bpfDW
}

// ownerRecordSize is the size of one record the program writes.
const ownerRecordSize = 16

// asm is a tiny assembler: instructions with symbolic jump targets.
type asm struct {
	insns  []bpfInsn
	labels map[string]int
	jumps  map[int]string // instruction index → target label
}

func (a *asm) emit(in ...bpfInsn) { a.insns = append(a.insns, in...) }

func (a *asm) label(name string) { a.labels[name] = len(a.insns) }

// jump emits "if dst op imm goto label".
func (a *asm) jump(op uint8, dst uint8, imm int32, label string) {
	a.jumps[len(a.insns)] = label
	a.emit(bpfInsn{code: bpfJMP | op | bpfK, dst: dst, imm: imm})
}

// jumpX emits "if dst op src goto label".
func (a *asm) jumpX(op uint8, dst, src uint8, label string) {
	a.jumps[len(a.insns)] = label
	a.emit(bpfInsn{code: bpfJMP | op | bpfX, dst: dst, src: src})
}

// ldImm64 emits "dst = v" (a 64-bit immediate takes two instructions).
func (a *asm) ldImm64(dst uint8, v uint64) {
	a.emit(bpfInsn{code: bpfLD | bpfIMM | bpfDW, dst: dst, imm: int32(uint32(v))}, bpfInsn{imm: int32(uint32(v >> 32))})
}

func (a *asm) resolve() []bpfInsn {
	for i, l := range a.jumps {
		a.insns[i].off = int16(a.labels[l] - i - 1)
	}
	return a.insns
}

// writeRecord ends a task-file program that has rec.ino on the stack, the
// context in r6 and the task in r8: it fills in rec.pid and rec.fd, writes
// the record with seq_write, returns 0 at the label "skip", and encodes the
// program in the kernel's byte order.
func (a *asm) writeRecord(l iterLayout, big bool) []byte {
	const r0, r1, r2, r3, r6, r8, r10 = 0, 1, 2, 3, 6, 8, 10
	off := func(f btfField) int16 { return int16(f.Offset) }
	a.emit(ldx(bpfW, r2, r8, off(l.TaskTGID)), stx(bpfW, r10, r2, -16)) // rec.pid = task->tgid
	a.emit(ldx(bpfW, r2, r6, ctxFD), stx(bpfW, r10, r2, -12))           // rec.fd = ctx->fd
	a.emit(ldx(bpfDW, r1, r6, ctxMeta), ldx(bpfDW, r1, r1, 0))          // r1 = ctx->meta->seq
	a.emit(bpfInsn{code: bpfALU64 | bpfMOV | bpfX, dst: r2, src: r10}, bpfInsn{code: bpfALU64 | bpfADD | bpfK, dst: r2, imm: -ownerRecordSize})
	a.emit(bpfInsn{code: bpfALU64 | bpfMOV | bpfK, dst: r3, imm: ownerRecordSize})
	a.emit(bpfInsn{code: bpfJMP | bpfCALL, imm: bpfFuncSeqWrite}) // seq_write(seq, &rec, 16)
	a.label("skip")
	a.emit(bpfInsn{code: bpfALU64 | bpfMOV | bpfK, dst: r0, imm: 0}, bpfInsn{code: bpfJMP | bpfEXIT})
	return encodeInsns(a.resolve(), big)
}

// taskFileProgram returns the program's instructions, encoded in the
// kernel's byte order (big-endian when big is set).
func taskFileProgram(l iterLayout, big bool) []byte {
	const r0, r1, r2, r3, r6, r7, r8, r10 = 0, 1, 2, 3, 6, 7, 8, 10
	mov := func(dst, src uint8) bpfInsn { return bpfInsn{code: bpfALU64 | bpfMOV | bpfX, dst: dst, src: src} }
	off := func(f btfField) int16 { return int16(f.Offset) }
	a := &asm{labels: map[string]int{}, jumps: map[int]string{}}
	a.emit(mov(r6, r1), ldx(bpfDW, r7, r6, ctxFile)) // r6 = ctx; r7 = ctx->file
	a.jump(bpfJEQ, r7, 0, "skip")                    // the end of one task's files
	a.emit(ldx(bpfDW, r8, r6, ctxTask))              // r8 = ctx->task
	a.jump(bpfJEQ, r8, 0, "skip")
	a.emit(mov(r1, r7), bpfInsn{code: bpfJMP | bpfCALL, imm: bpfFuncSockFromFile})
	a.jump(bpfJEQ, r0, 0, "skip")                                   // not a socket
	a.emit(ldx(bpfDW, r1, r0, off(l.SocketSk)))                     // r1 = socket->sk
	a.emit(ldx(sizeCode(l.SkFamily.Size), r2, r1, off(l.SkFamily))) // r2 = sk->skc_family
	a.jump(bpfJEQ, r2, afINET, "inet")                              //
	a.jump(bpfJNE, r2, afINET6, "skip")                             //
	a.label("inet")                                                 //
	a.emit(ldx(sizeCode(l.SkState.Size), r2, r1, off(l.SkState)))   // r2 = sk->skc_state
	a.jump(bpfJEQ, r2, tcpListen, "keep")                           //
	a.jump(bpfJNE, r2, tcpClose, "skip")                            //
	a.label("keep")                                                 //
	a.emit(ldx(bpfDW, r1, r7, off(l.FileInode)))                    // r1 = file->f_inode
	a.emit(ldx(sizeCode(l.InodeIno.Size), r2, r1, off(l.InodeIno))) //
	a.emit(stx(bpfDW, r10, r2, -8))                                 // rec.ino = inode->i_ino
	return a.writeRecord(l, big)
}

// maxInodeFilter is the most inodes inodeFileProgram compares against.
const maxInodeFilter = 64

// inodeFileProgram returns a task-file iterator program like
// taskFileProgram's, for a port query: it writes the same record only for
// the files whose inode number is one of inodes (at most maxInodeFilter)
// and that are sockets (a file of another filesystem can have the same
// number). It compares the number before anything else, so for every
// other file it reads two fields (file.f_inode, inode.i_ino) and never
// touches the socket, which is what makes the full iterator slow on hosts
// with many connections.
func inodeFileProgram(l iterLayout, big bool, inodes []uint64) []byte {
	const r0, r1, r2, r3, r6, r7, r8, r10 = 0, 1, 2, 3, 6, 7, 8, 10
	mov := func(dst, src uint8) bpfInsn { return bpfInsn{code: bpfALU64 | bpfMOV | bpfX, dst: dst, src: src} }
	off := func(f btfField) int16 { return int16(f.Offset) }
	a := &asm{labels: map[string]int{}, jumps: map[int]string{}}
	a.emit(mov(r6, r1), ldx(bpfDW, r7, r6, ctxFile)) // r6 = ctx; r7 = ctx->file
	a.jump(bpfJEQ, r7, 0, "skip")
	a.emit(ldx(bpfDW, r1, r7, off(l.FileInode)))                    // r1 = file->f_inode
	a.emit(ldx(sizeCode(l.InodeIno.Size), r2, r1, off(l.InodeIno))) // r2 = inode->i_ino
	for _, ino := range inodes[:min(len(inodes), maxInodeFilter)] {
		a.ldImm64(r3, ino)
		a.jumpX(bpfJEQ, r2, r3, "match")
	}
	a.jump(bpfJA, 0, 0, "skip")
	a.label("match")
	a.emit(stx(bpfDW, r10, r2, -8))     // rec.ino, before the call clobbers r2
	a.emit(ldx(bpfDW, r8, r6, ctxTask)) // r8 = ctx->task
	a.jump(bpfJEQ, r8, 0, "skip")
	a.emit(mov(r1, r7), bpfInsn{code: bpfJMP | bpfCALL, imm: bpfFuncSockFromFile})
	a.jump(bpfJEQ, r0, 0, "skip") // not a socket
	return a.writeRecord(l, big)
}

// encodeInsns encodes instructions in the kernel's byte order (big-endian
// when big is set): the register nibbles swap places too.
func encodeInsns(prog []bpfInsn, big bool) []byte {
	out := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		if big {
			out = append(out, in.code, in.dst<<4|in.src)
			out = binary.BigEndian.AppendUint16(out, uint16(in.off))
			out = binary.BigEndian.AppendUint32(out, uint32(in.imm))
		} else {
			out = append(out, in.code, in.dst|in.src<<4)
			out = binary.LittleEndian.AppendUint16(out, uint16(in.off))
			out = binary.LittleEndian.AppendUint32(out, uint32(in.imm))
		}
	}
	return out
}

// listenTriggerProgram returns a raw-tracepoint program for the kernel's
// sock:inet_sock_set_state event (args: sk, oldstate, newstate) that adds
// one to the u64 in slot 0 of the array map mapFD whenever a socket enters
// or leaves TCP_LISTEN. Every listener that opens or closes passes through
// that event, so an unchanged count means an unchanged set of TCP
// listeners, and the fingerprint can skip dumping them.
func listenTriggerProgram(mapFD int32, big bool) []byte {
	const r0, r1, r2, r10 = 0, 1, 2, 10
	a := &asm{labels: map[string]int{}, jumps: map[int]string{}}
	a.emit(ldx(bpfDW, r2, r1, 8)) // oldstate
	a.jump(bpfJEQ, r2, tcpListen, "bump")
	a.emit(ldx(bpfDW, r2, r1, 16)) // newstate
	a.jump(bpfJNE, r2, tcpListen, "out")
	a.label("bump")
	a.emit(bpfInsn{code: bpfST | bpfMEM | bpfW, dst: r10, off: -4}) // key = 0
	a.emit(bpfInsn{code: bpfLD | bpfIMM | bpfDW, dst: r1, src: bpfPseudoMapFD, imm: mapFD}, bpfInsn{})
	a.emit(bpfInsn{code: bpfALU64 | bpfMOV | bpfX, dst: r2, src: r10})
	a.emit(bpfInsn{code: bpfALU64 | bpfADD | bpfK, dst: r2, imm: -4})
	a.emit(bpfInsn{code: bpfJMP | bpfCALL, imm: bpfFuncMapLookupElem})
	a.jump(bpfJEQ, r0, 0, "out")
	a.emit(bpfInsn{code: bpfALU64 | bpfMOV | bpfK, dst: r1, imm: 1})
	a.emit(bpfInsn{code: bpfSTX | bpfATOMIC | bpfDW, dst: r0, src: r1, imm: bpfADD}) // lock *(u64 *)r0 += 1
	a.label("out")
	a.emit(bpfInsn{code: bpfALU64 | bpfMOV | bpfK, dst: r0, imm: 0}, bpfInsn{code: bpfJMP | bpfEXIT})
	return encodeInsns(a.resolve(), big)
}

// ownerRecords is the iterator's output: records in native byte order.
type ownerRecords []byte

// check rejects output that is not a whole number of records (the kernel
// writes whole records).
func (r ownerRecords) check() error {
	if len(r)%ownerRecordSize != 0 {
		return fmt.Errorf("socket owner iterator: %d bytes is not a whole number of records", len(r))
	}
	return nil
}

// all yields the (pid, inode) of each record.
func (r ownerRecords) all() iter.Seq2[uint32, uint64] {
	return func(yield func(uint32, uint64) bool) {
		for b := []byte(r); len(b) >= ownerRecordSize; b = b[ownerRecordSize:] {
			if !yield(binary.NativeEndian.Uint32(b), binary.NativeEndian.Uint64(b[8:])) {
				return
			}
		}
	}
}

// without drops the records of inode, in place (r's storage is reused),
// and reports whether one of them was held by pid (and none by another
// process).
func (r ownerRecords) without(inode uint64, pid uint32) (ownerRecords, bool) {
	out, seen, ok := r[:0], false, true
	for b := []byte(r); len(b) >= ownerRecordSize; b = b[ownerRecordSize:] {
		if binary.NativeEndian.Uint64(b[8:]) == inode {
			seen = true
			ok = ok && binary.NativeEndian.Uint32(b) == pid
			continue
		}
		out = append(out, b[:ownerRecordSize]...)
	}
	return out, seen && ok
}

// pids returns the distinct PIDs of the records.
func (r ownerRecords) pids() []int {
	var out []int
	seen := map[uint32]bool{}
	last := ^uint32(0)
	for pid := range r.all() {
		// The iterator visits one process's files in a row.
		if pid != last && !seen[pid] {
			seen[pid] = true
			out = append(out, int(pid))
		}
		last = pid
	}
	return out
}

// owners returns, for each wanted inode, the distinct PIDs holding it.
func (r ownerRecords) owners(want map[uint64]struct{}) map[uint64][]int {
	found := make(map[uint64][]int, len(want))
	for pid, ino := range r.all() {
		if _, ok := want[ino]; !ok {
			continue
		}
		ps := found[ino]
		if !slices.Contains(ps, int(pid)) { // else the same socket on another fd
			found[ino] = append(ps, int(pid))
		}
	}
	return found
}

// ownerIndex maps socket inodes to the PIDs holding them, as read from
// ownerRecords: one PID for almost every socket, a list for the few held
// by several processes (a fork, SO_REUSEPORT sharing, an inherited fd).
type ownerIndex struct {
	one  map[uint64]uint32
	many map[uint64][]int
	buf  []int // get's result for a socket in one
}

// index builds the ownerIndex of every record.
func (r ownerRecords) index() *ownerIndex {
	x := &ownerIndex{one: make(map[uint64]uint32, len(r)/ownerRecordSize), buf: make([]int, 1)}
	for pid, ino := range r.all() {
		p, ok := x.one[ino]
		if !ok {
			if ps, shared := x.many[ino]; shared {
				if !slices.Contains(ps, int(pid)) {
					x.many[ino] = append(ps, int(pid))
				}
				continue
			}
			x.one[ino] = pid
			continue
		}
		if p == pid {
			continue // the same socket on another fd of the same process
		}
		if x.many == nil {
			x.many = map[uint64][]int{}
		}
		x.many[ino] = []int{int(p), int(pid)}
		delete(x.one, ino)
	}
	return x
}

// get returns the PIDs holding ino; the slice is valid until the next call.
func (x *ownerIndex) get(ino uint64) []int {
	if p, ok := x.one[ino]; ok {
		x.buf[0] = int(p)
		return x.buf
	}
	return x.many[ino]
}
