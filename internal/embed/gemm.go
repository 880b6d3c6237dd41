package embed

import "math"

// Matrix product C = A·B for the model's dense layers. B (the weights) is
// packed once into panels of 16 columns, each panel k rows deep and
// contiguous, so the micro-kernel streams it linearly while it keeps a block
// of up to 6×16 results in registers.

const (
	panelW   = 16 // columns per packed panel (two AVX registers)
	maxRows  = 6  // rows per micro-kernel call
	rowChunk = 96 // rows of A per pass, so a pass over A stays in L2
)

// packedB is a k×n matrix in panel order: panel p holds columns
// [16p, 16p+16) as k rows of 16 values, zero-padded past column n. The
// values are in data (float32) or, for constant weights, in half (IEEE
// binary16): weights stream from DRAM on every run, and halves are half the
// bytes. Products still accumulate in float32.
type packedB struct {
	k, n int
	data []float32
	half []uint16
}

// toHalf returns p with its values stored as half floats, or p itself when a
// value is out of the half range (|v| > 65504, or not finite).
func (p *packedB) toHalf() *packedB {
	h := make([]uint16, len(p.data))
	for i, v := range p.data {
		if !(v >= -maxHalf && v <= maxHalf) {
			return p
		}
		h[i] = floatToHalf(v)
	}
	return &packedB{k: p.k, n: p.n, half: h}
}

// maxHalf is the largest finite IEEE binary16 value.
const maxHalf = 65504

// floatToHalf rounds a finite float32 within ±maxHalf to the nearest IEEE
// binary16 value (ties to even), subnormals included.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	if exp <= 0 { // subnormal half, or zero
		if exp < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - exp)
		r, rem, halfway := m>>shift, m&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > halfway || (rem == halfway && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(exp)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// epilogue is what the kernel applies to each result while it is still in
// registers: a bias per column (padded to whole panels) and a ReLU.
type epilogue struct {
	bias []float32
	relu bool
}

// packB packs b, which is k×n row-major, or n×k row-major when transposed.
func packB(e *scratch, b []float32, k, n int, transposed bool) *packedB {
	panels := (n + panelW - 1) / panelW
	p := &packedB{k: k, n: n, data: e.floats(panels * k * panelW)}
	if n%panelW != 0 {
		clear(p.data[(panels-1)*k*panelW:]) // zero padding past column n
	}
	for pi := range panels {
		dst := p.data[pi*k*panelW : (pi+1)*k*panelW]
		for kk := range k {
			row := dst[kk*panelW : (kk+1)*panelW]
			for j := range min(panelW, n-pi*panelW) {
				col := pi*panelW + j
				if transposed {
					row[j] = b[col*k+kk]
				} else {
					row[j] = b[kk*n+col]
				}
			}
		}
	}
	return p
}

// gemm writes the m×n product of a (m×k, row-major) and b into c (m×n),
// with the epilogue applied. k must be at least 1.
func gemm(m int, a []float32, b *packedB, c []float32, ep epilogue) {
	k, n := b.k, b.n
	if m == 0 || n == 0 {
		return
	}
	_ = a[m*k-1]
	_ = c[m*n-1]
	var tmp [maxRows * panelW]float32
	var wide []float32 // one widened half panel, for the portable kernel
	panels := (n + panelW - 1) / panelW
	for i0 := 0; i0 < m; i0 += rowChunk {
		mm := min(rowChunk, m-i0)
		// Split the chunk into blocks of near-equal height: blocks of 4 to 6
		// rows keep enough independent FMAs in flight, a lone row would not.
		nb := (mm + maxRows - 1) / maxRows
		base, extra := mm/nb, mm%nb
		for p := range panels {
			var bp, pf []float32
			var hp, hpf []uint16
			switch {
			case b.half == nil:
				bp = b.data[p*k*panelW : (p+1)*k*panelW]
				// While the kernel works on this panel, it prefetches the next
				// one a line per step: when the weights come from DRAM (they do
				// not fit this machine's caches), the next panel is on its way.
				pf = b.data[min(p+1, panels-1)*k*panelW:]
			case haveHalf:
				hp = b.half[p*k*panelW : (p+1)*k*panelW]
				hpf = b.half[min(p+1, panels-1)*k*panelW:]
			default: // widen the panel once for the portable kernel
				if wide == nil {
					wide = make([]float32, k*panelW)
				}
				for i, h := range b.half[p*k*panelW : (p+1)*k*panelW] {
					wide[i] = halfToFloat(h)
				}
				bp, pf = wide, wide
			}
			cols := min(panelW, n-p*panelW)
			var bias []float32
			if ep.bias != nil {
				bias = ep.bias[p*panelW : (p+1)*panelW]
			}
			r := i0
			for blk := range nb {
				mr := base
				if blk < extra {
					mr++
				}
				ap := a[r*k:]
				dst, ldc := tmp[:], panelW
				if cols == panelW {
					dst, ldc = c[r*n+p*panelW:], n
				}
				if hp != nil {
					microKernelHalf(mr, k, ap, k, hp, dst, ldc, bias, ep.relu, hpf)
				} else {
					microKernel(mr, k, ap, k, bp, dst, ldc, bias, ep.relu, pf)
				}
				if cols != panelW {
					for i := range mr {
						copy(c[(r+i)*n+p*panelW:(r+i)*n+p*panelW+cols], tmp[i*panelW:i*panelW+cols])
					}
				}
				r += mr
			}
		}
	}
}

// microKernelHalf is microKernel for a panel of half floats; only called
// when haveHalf.
func microKernelHalf(mr, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, relu bool, pf []uint16) {
	_ = a[(mr-1)*lda+k-1]
	_ = b[k*panelW-1]
	_ = c[(mr-1)*ldc+panelW-1]
	if !haveHalf || mr < 1 || mr > maxRows || k < 1 || (bias != nil && len(bias) < panelW) {
		panic("embed: half micro-kernel called out of range")
	}
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	r := 0
	if relu {
		r = 1
	}
	sgemmKernelHalf(mr, k, &a[0], lda, &b[0], &c[0], ldc, bp, r, &pf[0])
}

// microKernel writes c[i][0:16] = bias + Σ_p a[i*lda+p]·b[p*16:p*16+16]
// for i < mr (1 to 6), then ReLU if asked; bias is nil or 16 values. It
// prefetches k cache lines from pf on, a hint that never faults.
func microKernel(mr, k int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, relu bool, pf []float32) {
	// The bounds the assembly relies on; they also catch misuse of the Go kernel.
	_ = a[(mr-1)*lda+k-1]
	_ = b[k*panelW-1]
	_ = c[(mr-1)*ldc+panelW-1]
	if mr < 1 || mr > maxRows || k < 1 || (bias != nil && len(bias) < panelW) {
		panic("embed: micro-kernel called out of range")
	}
	if haveFMA {
		var bp *float32
		if bias != nil {
			bp = &bias[0]
		}
		r := 0
		if relu {
			r = 1
		}
		sgemmKernelFMA(mr, k, &a[0], lda, &b[0], &c[0], ldc, bp, r, &pf[0])
		return
	}
	microKernelGo(mr, k, a, lda, b, c, ldc, bias, relu)
}

// microKernelGo is the portable micro-kernel.
func microKernelGo(mr, k int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, relu bool) {
	for i := range mr {
		var acc [panelW]float32
		if bias != nil {
			copy(acc[:], bias)
		}
		for p, av := range a[i*lda : i*lda+k] {
			bp := (*[panelW]float32)(b[p*panelW : (p+1)*panelW])
			for j := range acc {
				acc[j] += av * bp[j]
			}
		}
		if relu {
			for j := range acc {
				acc[j] = max(acc[j], 0)
			}
		}
		copy(c[i*ldc:i*ldc+panelW], acc[:])
	}
}
