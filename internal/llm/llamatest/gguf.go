package llamatest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// GGUF is llama.cpp's model file: the magic "GGUF", a version (3), the
// tensor and key-value counts, the key-value pairs, the tensor descriptions
// (name, dimensions innermost first, element type, offset into the data), then
// the tensor data, each tensor aligned to general.alignment (32 by default).
// Everything is little-endian; strings are a uint64 length and the bytes.
// (ggml/include/gguf.h in the llama.cpp tree describes the layout.)
const (
	ggufMagic     = "GGUF"
	ggufVersion   = 3
	ggufAlignment = 32
)

// ValueType is the type of a GGUF key's value (gguf.h's gguf_type).
type ValueType uint32

// The value types, numbered as the format numbers them.
const (
	TypeUint8 ValueType = iota
	TypeInt8
	TypeUint16
	TypeInt16
	TypeUint32
	TypeInt32
	TypeFloat32
	TypeBool
	TypeString
	TypeArray
	TypeUint64
	TypeInt64
	TypeFloat64
)

// fixedSize is the encoded size of a scalar type, 0 for strings and arrays.
func (t ValueType) fixedSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// KV is one metadata pair. Raw is the value exactly as encoded in the file
// (after the type), so a pair read from one file can be written to another
// unchanged.
type KV struct {
	Key  string
	Type ValueType
	Raw  []byte
}

// String returns a string value, "" when the pair holds something else.
func (kv KV) String() string {
	if kv.Type != TypeString || len(kv.Raw) < 8 {
		return ""
	}
	return string(kv.Raw[8:])
}

// ArrayLen returns the element count of an array value, 0 for other types.
func (kv KV) ArrayLen() int {
	if kv.Type != TypeArray || len(kv.Raw) < 12 {
		return 0
	}
	return int(binary.LittleEndian.Uint64(kv.Raw[4:12]))
}

// Uint32 returns a uint32 or int32 value.
func (kv KV) Uint32() (uint32, bool) {
	if (kv.Type != TypeUint32 && kv.Type != TypeInt32) || len(kv.Raw) != 4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(kv.Raw), true
}

// StringKV, Uint32KV and Float32KV build pairs to write.
func StringKV(key, v string) KV {
	raw := binary.LittleEndian.AppendUint64(nil, uint64(len(v)))
	return KV{Key: key, Type: TypeString, Raw: append(raw, v...)}
}

func Uint32KV(key string, v uint32) KV {
	return KV{Key: key, Type: TypeUint32, Raw: binary.LittleEndian.AppendUint32(nil, v)}
}

func Float32KV(key string, v float32) KV {
	return KV{Key: key, Type: TypeFloat32, Raw: binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))}
}

// TensorInfo describes one tensor of a file: Dims innermost first, as ggml
// orders them (a matrix of n_vocab rows of n_embd is {n_embd, n_vocab}).
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   uint32 // ggml_type; this package writes only F32 (0)
	Offset uint64 // from the start of the data section
}

// File is the header of a GGUF file: its pairs and tensor descriptions.
type File struct {
	Version uint32
	KVs     []KV
	Tensors []TensorInfo
}

// Get returns the pair named key.
func (f *File) Get(key string) (KV, bool) {
	for _, kv := range f.KVs {
		if kv.Key == key {
			return kv, true
		}
	}
	return KV{}, false
}

// ReadFile reads the header (pairs and tensor descriptions) of the GGUF file at path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := Read(bufio.NewReader(fh))
	if err != nil {
		return nil, fmt.Errorf("reading GGUF %s: %w", path, err)
	}
	return f, nil
}

// Read reads a GGUF header from r.
func Read(r io.Reader) (*File, error) {
	d := &decoder{r: r}
	if magic := string(d.bytes(4)); d.err == nil && magic != ggufMagic {
		return nil, fmt.Errorf("not a GGUF file (magic %q)", magic)
	}
	f := &File{Version: d.u32()}
	if d.err == nil && f.Version != 2 && f.Version != ggufVersion {
		return nil, fmt.Errorf("GGUF version %d is not supported", f.Version)
	}
	nTensors, nKV := d.u64(), d.u64()
	if d.err == nil && (nTensors > 1<<20 || nKV > 1<<20) {
		return nil, fmt.Errorf("implausible counts: %d tensors, %d pairs", nTensors, nKV)
	}
	for i := uint64(0); i < nKV && d.err == nil; i++ {
		key := d.str()
		t := ValueType(d.u32())
		f.KVs = append(f.KVs, KV{Key: key, Type: t, Raw: d.value(t, 0)})
	}
	for i := uint64(0); i < nTensors && d.err == nil; i++ {
		ti := TensorInfo{Name: d.str()}
		n := d.u32()
		if n > 4 {
			return nil, fmt.Errorf("tensor %q has %d dimensions", ti.Name, n)
		}
		for range n {
			ti.Dims = append(ti.Dims, d.u64())
		}
		ti.Type, ti.Offset = d.u32(), d.u64()
		f.Tensors = append(f.Tensors, ti)
	}
	if d.err != nil {
		return nil, d.err
	}
	return f, nil
}

type decoder struct {
	r   io.Reader
	err error
}

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > 64<<20 {
		d.err = fmt.Errorf("a value of %d bytes is too large", n)
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.err = err
		if errors.Is(err, io.EOF) {
			d.err = io.ErrUnexpectedEOF
		}
	}
	return b
}

func (d *decoder) u32() uint32 {
	b := d.bytes(4)
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (d *decoder) u64() uint64 {
	b := d.bytes(8)
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (d *decoder) str() string { return string(d.bytes(d.u64())) }

// value reads one value of type t and returns its encoding.
func (d *decoder) value(t ValueType, depth int) []byte {
	if n := t.fixedSize(); n > 0 {
		return d.bytes(uint64(n))
	}
	switch t {
	case TypeString:
		n := d.u64()
		return append(binary.LittleEndian.AppendUint64(nil, n), d.bytes(n)...)
	case TypeArray:
		if depth > 2 {
			d.err = errors.New("arrays nested too deep")
			return nil
		}
		et, n := ValueType(d.u32()), d.u64()
		raw := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint32(nil, uint32(et)), n)
		if sz := et.fixedSize(); sz > 0 {
			return append(raw, d.bytes(n*uint64(sz))...)
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			raw = append(raw, d.value(et, depth+1)...)
		}
		return raw
	}
	if d.err == nil {
		d.err = fmt.Errorf("unknown value type %d", t)
	}
	return nil
}

// Tensor is an F32 tensor to write.
type Tensor struct {
	Name string
	Dims []uint64 // innermost first
	Data []float32
}

// Write writes a GGUF v3 file with kvs and F32 tensors to w.
func Write(w io.Writer, kvs []KV, tensors []Tensor) error {
	bw := bufio.NewWriter(w)
	var b []byte
	b = append(b, ggufMagic...)
	b = binary.LittleEndian.AppendUint32(b, ggufVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(tensors)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(kvs)))
	for _, kv := range kvs {
		b = appendString(b, kv.Key)
		b = binary.LittleEndian.AppendUint32(b, uint32(kv.Type))
		b = append(b, kv.Raw...)
	}
	var off uint64
	for _, t := range tensors {
		n := uint64(1)
		for _, d := range t.Dims {
			n *= d
		}
		if n != uint64(len(t.Data)) {
			return fmt.Errorf("tensor %s: dimensions %v hold %d values, data has %d", t.Name, t.Dims, n, len(t.Data))
		}
		b = appendString(b, t.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			b = binary.LittleEndian.AppendUint64(b, d)
		}
		b = binary.LittleEndian.AppendUint32(b, 0) // GGML_TYPE_F32
		b = binary.LittleEndian.AppendUint64(b, off)
		off = align(off + 4*n)
	}
	b = append(b, make([]byte, align(uint64(len(b)))-uint64(len(b)))...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	for _, t := range tensors {
		buf := make([]byte, 0, align(4*uint64(len(t.Data))))
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		buf = append(buf, make([]byte, align(uint64(len(buf)))-uint64(len(buf)))...)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func appendString(b []byte, s string) []byte {
	return append(binary.LittleEndian.AppendUint64(b, uint64(len(s))), s...)
}

func align(n uint64) uint64 { return (n + ggufAlignment - 1) / ggufAlignment * ggufAlignment }
