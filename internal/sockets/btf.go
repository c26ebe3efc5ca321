package sockets

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A minimal reader of BTF, the kernel's type format (as in
// /sys/kernel/btf/vmlinux): enough to find a named struct's member offsets
// and a named function's type id, which is what the task-file iterator in
// owners_bpf_linux.go needs to be loaded on any kernel build. It is pure and
// untagged, so it is fuzzed and tested everywhere; the layout is the one
// documented in the kernel's Documentation/bpf/btf.rst.

// BTF kinds used here.
const (
	btfKindInt      = 1
	btfKindPtr      = 2
	btfKindArray    = 3
	btfKindStruct   = 4
	btfKindUnion    = 5
	btfKindEnum     = 6
	btfKindTypedef  = 8
	btfKindVolatile = 9
	btfKindConst    = 10
	btfKindRestrict = 11
	btfKindFunc     = 12
	btfKindProto    = 13
	btfKindVar      = 14
	btfKindDatasec  = 15
	btfKindDeclTag  = 17
	btfKindTypeTag  = 18
	btfKindEnum64   = 19
	btfKindMax      = 19
)

const btfMagic = 0xeb9f

// btfTypes is a parsed BTF blob: the type section, an index from type id
// to the offset of its record, and the string section. It keeps slices of
// the input, which must stay unchanged while it is used.
type btfTypes struct {
	big   bool // big-endian blob
	types []byte
	strs  []byte
	offs  []uint32 // offs[id-1] is type id's offset in types
}

var errBTF = errors.New("malformed BTF")

// parseBTF checks the header and indexes every type record. Every length
// is checked, so any input either parses or returns an error.
func parseBTF(b []byte) (*btfTypes, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("%w: %d bytes, short header", errBTF, len(b))
	}
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint16(b) == btfMagic:
		order = binary.LittleEndian
	case binary.BigEndian.Uint16(b) == btfMagic:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: bad magic %#04x", errBTF, binary.LittleEndian.Uint16(b))
	}
	hdrLen := uint64(order.Uint32(b[4:]))
	typeOff, typeLen := uint64(order.Uint32(b[8:])), uint64(order.Uint32(b[12:]))
	strOff, strLen := uint64(order.Uint32(b[16:])), uint64(order.Uint32(b[20:]))
	n := uint64(len(b))
	if hdrLen < 24 || hdrLen > n || hdrLen+typeOff+typeLen > n || hdrLen+strOff+strLen > n {
		return nil, fmt.Errorf("%w: sections outside the %d-byte blob", errBTF, n)
	}
	t := &btfTypes{
		big:   order == binary.BigEndian,
		types: b[hdrLen+typeOff : hdrLen+typeOff+typeLen],
		strs:  b[hdrLen+strOff : hdrLen+strOff+strLen],
	}
	// vmlinux has about 12 bytes of record per 20 bytes of type section.
	t.offs = make([]uint32, 0, len(t.types)/20)
	for off := 0; off < len(t.types); {
		if len(t.types)-off < 12 {
			return nil, fmt.Errorf("%w: truncated type at offset %d", errBTF, off)
		}
		info := t.u32(t.types[off+4:])
		kind, vlen := int(info>>24&0x1f), int(info&0xffff)
		var extra int
		switch kind {
		case btfKindInt, btfKindVar, btfKindDeclTag:
			extra = 4
		case btfKindArray:
			extra = 12
		case btfKindStruct, btfKindUnion, btfKindDatasec, btfKindEnum64:
			extra = 12 * vlen
		case btfKindEnum, btfKindProto:
			extra = 8 * vlen
		default:
			if kind == 0 || kind > btfKindMax {
				return nil, fmt.Errorf("%w: unknown kind %d at offset %d", errBTF, kind, off)
			}
		}
		if len(t.types)-off-12 < extra {
			return nil, fmt.Errorf("%w: truncated type at offset %d", errBTF, off)
		}
		t.offs = append(t.offs, uint32(off))
		off += 12 + extra
	}
	return t, nil
}

// u32 reads a 32-bit word in the blob's byte order (a direct call: the
// index pass reads every type record).
func (t *btfTypes) u32(b []byte) uint32 {
	if t.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// record returns the fixed part of type id: its name offset, info word and
// size-or-type word, and the offset of its trailing data; ok is false for
// an id outside the blob.
func (t *btfTypes) record(id uint32) (name, info, sizeType uint32, data int, ok bool) {
	if id == 0 || int(id) > len(t.offs) {
		return 0, 0, 0, 0, false
	}
	off := int(t.offs[id-1])
	r := t.types[off:]
	return t.u32(r), t.u32(r[4:]), t.u32(r[8:]), off + 12, true
}

// nameIs reports whether the string at off is name, without allocating.
func (t *btfTypes) nameIs(off uint32, name string) bool {
	end := uint64(off) + uint64(len(name))
	if end >= uint64(len(t.strs)) {
		return false
	}
	return string(t.strs[off:end]) == name && t.strs[end] == 0
}

// find returns the id of the first type of kind named name. Structs with
// no members (forward-declared shapes) are skipped.
func (t *btfTypes) find(kind int, name string) (uint32, bool) {
	id := t.findEach(kind, name)[0]
	return id, id != 0
}

// findEach is find for several names in one pass over the types; an id
// is 0 for a name not found.
func (t *btfTypes) findEach(kind int, names ...string) []uint32 {
	ids := make([]uint32, len(names))
	left := len(names)
	for i, off := range t.offs {
		r := t.types[off:]
		info := t.u32(r[4:])
		if int(info>>24&0x1f) != kind || (kind == btfKindStruct && info&0xffff == 0) {
			continue
		}
		name := t.u32(r)
		for j, n := range names {
			if ids[j] == 0 && t.nameIs(name, n) {
				ids[j] = uint32(i + 1)
				if left--; left == 0 {
					return ids
				}
			}
		}
	}
	return ids
}

// resolve follows typedefs and qualifiers to the underlying type and
// returns its kind and size in bytes (8 for a pointer: the BPF machine is
// 64-bit).
func (t *btfTypes) resolve(id uint32) (kind int, size uint32, ok bool) {
	for range 32 { // a loop guard against cyclic input
		_, info, sizeType, _, ok := t.record(id)
		if !ok {
			return 0, 0, false
		}
		switch k := int(info >> 24 & 0x1f); k {
		case btfKindTypedef, btfKindVolatile, btfKindConst, btfKindRestrict, btfKindTypeTag:
			id = sizeType
		case btfKindPtr:
			return k, 8, true
		case btfKindInt, btfKindEnum, btfKindEnum64, btfKindStruct, btfKindUnion:
			return k, sizeType, true
		default:
			return k, 0, true
		}
	}
	return 0, 0, false
}

// btfField is where a struct member lives and what it is.
type btfField struct {
	Offset uint32 // bytes from the start of the struct
	Kind   int    // resolved kind: btfKindInt, btfKindPtr…
	Size   uint32 // resolved size in bytes
}

// member finds member name of the struct named structName, looking
// inside anonymous struct and union members too (as C does).
func (t *btfTypes) member(structName, name string) (btfField, error) {
	id, _ := t.find(btfKindStruct, structName)
	return t.memberIn(id, structName, name)
}

// memberIn is member for a struct already found (id 0: not found).
func (t *btfTypes) memberIn(id uint32, structName, name string) (btfField, error) {
	if id == 0 {
		return btfField{}, fmt.Errorf("BTF has no struct %s", structName)
	}
	f, ok := t.memberOf(id, name, 0, 0)
	if !ok {
		return btfField{}, fmt.Errorf("BTF struct %s has no member %s", structName, name)
	}
	return f, nil
}

func (t *btfTypes) memberOf(id uint32, name string, base uint32, depth int) (btfField, bool) {
	_, info, _, data, ok := t.record(id)
	if !ok || depth > 8 {
		return btfField{}, false
	}
	if k := int(info >> 24 & 0x1f); k != btfKindStruct && k != btfKindUnion {
		return btfField{}, false
	}
	kflag := info>>31 == 1
	for i := range int(info & 0xffff) {
		m := t.types[data+12*i:]
		mname, mtype, moff := t.u32(m), t.u32(m[4:]), t.u32(m[8:])
		bits := moff
		if kflag {
			if moff>>24 != 0 {
				continue // a bitfield: not addressable
			}
			bits = moff & 0xffffff
		}
		if bits%8 != 0 {
			continue
		}
		off := base + bits/8
		if mname == 0 {
			if f, ok := t.memberOf(t.strip(mtype), name, off, depth+1); ok {
				return f, true
			}
			continue
		}
		if t.nameIs(mname, name) {
			kind, size, ok := t.resolve(mtype)
			if !ok {
				return btfField{}, false
			}
			return btfField{Offset: off, Kind: kind, Size: size}, true
		}
	}
	return btfField{}, false
}

// strip follows typedefs and qualifiers without resolving further.
func (t *btfTypes) strip(id uint32) uint32 {
	for range 32 {
		_, info, sizeType, _, ok := t.record(id)
		if !ok {
			return 0
		}
		switch int(info >> 24 & 0x1f) {
		case btfKindTypedef, btfKindVolatile, btfKindConst, btfKindRestrict, btfKindTypeTag:
			id = sizeType
		default:
			return id
		}
	}
	return 0
}
