package sockets

import (
	"encoding/binary"
	"errors"
	"testing"
)

// btfBuilder writes a little-endian BTF blob for tests.
type btfBuilder struct {
	types []byte
	strs  []byte
	n     uint32 // types written
}

func newBTFBuilder() *btfBuilder { return &btfBuilder{strs: []byte{0}} }

func (b *btfBuilder) str(s string) uint32 {
	if s == "" {
		return 0
	}
	off := uint32(len(b.strs))
	b.strs = append(append(b.strs, s...), 0)
	return off
}

// add appends a type record and returns its id.
func (b *btfBuilder) add(name string, kind int, vlen int, kflag bool, sizeType uint32, extra ...uint32) uint32 {
	info := uint32(kind)<<24 | uint32(vlen)
	if kflag {
		info |= 1 << 31
	}
	le := binary.LittleEndian
	b.types = le.AppendUint32(b.types, b.str(name))
	b.types = le.AppendUint32(b.types, info)
	b.types = le.AppendUint32(b.types, sizeType)
	for _, x := range extra {
		b.types = le.AppendUint32(b.types, x)
	}
	b.n++
	return b.n
}

type btfMember struct {
	name string
	typ  uint32
	bits uint32
}

func (b *btfBuilder) record(kind int, name string, size uint32, kflag bool, ms ...btfMember) uint32 {
	var extra []uint32
	for _, m := range ms {
		extra = append(extra, b.str(m.name), m.typ, m.bits)
	}
	return b.add(name, kind, len(ms), kflag, size, extra...)
}

func (b *btfBuilder) bytes() []byte {
	le := binary.LittleEndian
	h := le.AppendUint16(nil, btfMagic)
	h = append(h, 1, 0)
	h = le.AppendUint32(h, 24)
	h = le.AppendUint32(h, 0)
	h = le.AppendUint32(h, uint32(len(b.types)))
	h = le.AppendUint32(h, uint32(len(b.types)))
	h = le.AppendUint32(h, uint32(len(b.strs)))
	return append(append(h, b.types...), b.strs...)
}

// kernelLikeBTF has the shapes the owner program needs, with members in
// anonymous unions and structs as real kernels have them, and decoys. It
// returns the blob and the id of bpf_iter_task_file.
func kernelLikeBTFWithID() ([]byte, uint32) {
	b := newBTFBuilder()
	u8 := b.add("unsigned char", btfKindInt, 0, false, 1, 8)
	u16 := b.add("unsigned short", btfKindInt, 0, false, 2, 16)
	s32 := b.add("int", btfKindInt, 0, false, 4, 32)
	u64 := b.add("unsigned long", btfKindInt, 0, false, 8, 64)
	pid := b.add("pid_t", btfKindTypedef, 0, false, s32)
	vu8 := b.add("", btfKindVolatile, 0, false, u8)
	b.add("file", 7, 0, false, 0) // a forward declaration: skipped
	inodeFwd := b.add("inode", btfKindStruct, 0, false, 0)
	inodePtr := b.add("", btfKindPtr, 0, false, inodeFwd)
	cinodePtr := b.add("", btfKindConst, 0, false, inodePtr)
	anon := b.record(btfKindUnion, "", 8, false, btfMember{"f_llist", u64, 0}, btfMember{"f_inode", cinodePtr, 0})
	b.record(btfKindStruct, "file", 64, false, btfMember{"f_mode", s32, 0}, btfMember{"", anon, 256})
	b.record(btfKindStruct, "inode", 128, true,
		btfMember{"i_mode", u16, 0}, btfMember{"i_flags", s32, 4<<24 | 16}, btfMember{"i_ino", u64, 512})
	b.record(btfKindStruct, "task_struct", 4096, false, btfMember{"pid", pid, 10112}, btfMember{"tgid", pid, 10144})
	sockPtr := b.add("", btfKindPtr, 0, false, 0)
	b.record(btfKindStruct, "socket", 128, false, btfMember{"state", s32, 0}, btfMember{"sk", sockPtr, 192})
	common := b.record(btfKindStruct, "sock_common", 136, false, btfMember{"skc_family", u16, 128}, btfMember{"skc_state", vu8, 144})
	b.record(btfKindStruct, "sock", 760, false, btfMember{"__sk_common", common, 0})
	proto := b.add("", btfKindProto, 1, false, s32, 0, s32)
	b.add("bpf_iter_task", btfKindFunc, 0, false, proto)
	id := b.add("bpf_iter_task_file", btfKindFunc, 0, false, proto)
	return b.bytes(), id
}

func kernelLikeBTF() []byte {
	b, _ := kernelLikeBTFWithID()
	return b
}

func TestBTFLayout(t *testing.T) {
	blob, funcID := kernelLikeBTFWithID()
	bt, err := parseBTF(blob)
	if err != nil {
		t.Fatal(err)
	}
	l, err := iterLayoutFrom(bt)
	if err != nil {
		t.Fatal(err)
	}
	// testLayout (bpfiter_test.go) holds the offsets this blob encodes.
	want := testLayout()
	want.FuncID = funcID
	if l != want {
		t.Errorf("layout\n got %+v\nwant %+v", l, want)
	}
}

func TestBTFMemberMisses(t *testing.T) {
	bt, err := parseBTF(kernelLikeBTF())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ strct, member string }{
		{"nosuch", "x"},
		{"inode", "nosuch"},
		{"inode", "i_flags"}, // a bitfield has no byte address
		{"inode", "i_in"},    // a prefix is not a match
	} {
		if f, err := bt.member(c.strct, c.member); err == nil {
			t.Errorf("member(%s, %s) = %+v, want an error", c.strct, c.member, f)
		}
	}
	if _, ok := bt.find(btfKindFunc, "bpf_iter_task_fil"); ok {
		t.Error("found a function by a prefix of its name")
	}
}

func TestParseBTFErrors(t *testing.T) {
	good := kernelLikeBTF()
	cases := map[string][]byte{
		"empty":     nil,
		"bad magic": append([]byte{1, 2}, good[2:]...),
		"truncated": good[:len(good)-40],
		"short":     good[:23],
	}
	// A record of an unknown kind.
	b := newBTFBuilder()
	b.add("x", 31, 0, false, 0)
	cases["unknown kind"] = b.bytes()
	// A struct that claims more members than the section holds.
	b = newBTFBuilder()
	b.add("s", btfKindStruct, 100, false, 8)
	cases["short struct"] = b.bytes()
	for name, in := range cases {
		if _, err := parseBTF(in); !errors.Is(err, errBTF) {
			t.Errorf("%s: err = %v, want errBTF", name, err)
		}
	}
}

func TestBTFBigEndian(t *testing.T) {
	// The same blob with every 32-bit word and the magic swapped.
	le := kernelLikeBTF()
	be := make([]byte, len(le))
	copy(be, le)
	binary.BigEndian.PutUint16(be, btfMagic)
	strStart := 24 + int(binary.LittleEndian.Uint32(le[16:]))
	for i := 4; i < strStart; i += 4 {
		binary.BigEndian.PutUint32(be[i:], binary.LittleEndian.Uint32(le[i:]))
	}
	bt, err := parseBTF(be)
	if err != nil {
		t.Fatal(err)
	}
	f, err := bt.member("task_struct", "tgid")
	if err != nil || f.Offset != 1268 {
		t.Errorf("tgid = %+v, %v", f, err)
	}
}

func FuzzParseBTF(f *testing.F) {
	f.Add(kernelLikeBTF())
	f.Fuzz(func(t *testing.T, b []byte) {
		bt, err := parseBTF(b)
		if err != nil {
			return
		}
		// Lookups on any parsed input end without a panic.
		_, _ = iterLayoutFrom(bt)
		for id := range uint32(len(bt.offs) + 2) {
			bt.resolve(id)
			bt.memberOf(id, "x", 0, 0)
		}
	})
}
