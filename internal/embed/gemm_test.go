package embed

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the definition gemm must match.
func naiveGemm(m, k, n int, a, b []float32, bTransposed bool, ep epilogue) []float32 {
	c := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var s float64
			if ep.bias != nil {
				s = float64(ep.bias[j])
			}
			for p := range k {
				bv := b[p*n+j]
				if bTransposed {
					bv = b[j*k+p]
				}
				s += float64(a[i*k+p]) * float64(bv)
			}
			if ep.relu {
				s = max(s, 0)
			}
			c[i*n+j] = float32(s)
		}
	}
	return c
}

func randFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for k := range v {
		v[k] = r.Float32()*2 - 1
	}
	return v
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 97, 200} {
		for _, k := range []int{1, 3, 16, 67} {
			for _, n := range []int{1, 15, 16, 33} {
				for _, ep := range []struct{ bias, relu, trans bool }{{false, false, false}, {true, true, false}, {true, false, true}} {
					a, b := randFloats(r, m*k), randFloats(r, k*n)
					var e epilogue
					if ep.bias {
						e.bias = make([]float32, (n+panelW-1)/panelW*panelW)
						copy(e.bias, randFloats(r, n))
					}
					e.relu = ep.relu
					want := naiveGemm(m, k, n, a, b, ep.trans, e)
					got := make([]float32, m*n)
					gemm(m, a, packB(dirtyScratch(), b, k, n, ep.trans), got, e)
					for x := range want {
						if math.Abs(float64(got[x]-want[x])) > 1e-4 {
							t.Fatalf("m=%d k=%d n=%d %+v: c[%d] = %v, want %v", m, k, n, ep, x, got[x], want[x])
						}
					}
				}
			}
		}
	}
}

// TestMicroKernels checks the assembly and the portable kernel agree, on
// every row count, with the output rows spaced apart (ldc > 16).
func TestMicroKernels(t *testing.T) {
	if !haveFMA {
		t.Log("assembly kernel not in use (no AVX2/FMA, or built with -tags purego): checking the portable one against itself")
	}
	r := rand.New(rand.NewPCG(3, 4))
	const k, lda, ldc = 37, 40, 20
	for mr := 1; mr <= maxRows; mr++ {
		for _, relu := range []bool{false, true} {
			a, b, bias := randFloats(r, mr*lda), randFloats(r, k*panelW), randFloats(r, panelW)
			want := make([]float32, mr*ldc)
			got := make([]float32, mr*ldc)
			for x := range got {
				want[x], got[x] = 42, 42 // untouched outside each row's 16 values
			}
			microKernelGo(mr, k, a, lda, b, want, ldc, bias, relu)
			microKernel(mr, k, a, lda, b, got, ldc, bias, relu, b)
			for x := range want {
				if math.Abs(float64(got[x]-want[x])) > 1e-4 {
					t.Fatalf("mr=%d relu=%v: c[%d] = %v, want %v", mr, relu, x, got[x], want[x])
				}
			}
		}
	}
}

// TestGemmHalf checks products with weights stored as half floats (the
// assembly kernel where F16C is there, the widening Go path otherwise).
func TestGemmHalf(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, m := range []int{1, 4, 5, 6, 7, 13, 97} {
		for _, k := range []int{1, 3, 16, 67} {
			for _, n := range []int{1, 15, 16, 33} {
				for _, ep := range []struct{ bias, relu, trans bool }{{false, false, false}, {true, true, false}, {true, false, true}} {
					a, b := randFloats(r, m*k), randFloats(r, k*n)
					for x, v := range b { // exactly representable, so naiveGemm is the reference
						b[x] = halfToFloat(floatToHalf(v))
					}
					var e epilogue
					if ep.bias {
						e.bias = make([]float32, (n+panelW-1)/panelW*panelW)
						copy(e.bias, randFloats(r, n))
					}
					e.relu = ep.relu
					pb := packB(dirtyScratch(), b, k, n, ep.trans).toHalf()
					if pb.half == nil || pb.data != nil {
						t.Fatal("toHalf kept float32 values in range")
					}
					want := naiveGemm(m, k, n, a, b, ep.trans, e)
					got := make([]float32, m*n)
					gemm(m, a, pb, got, e)
					for x := range want {
						if math.Abs(float64(got[x]-want[x])) > 1e-4 {
							t.Fatalf("m=%d k=%d n=%d %+v: c[%d] = %v, want %v", m, k, n, ep, x, got[x], want[x])
						}
					}
				}
			}
		}
	}
	if pb := packB(dirtyScratch(), []float32{1, 70000}, 1, 2, false).toHalf(); pb.half != nil {
		t.Error("toHalf converted a value beyond the half range")
	}
}

// TestFloatToHalf checks the rounding against halfToFloat: every finite half
// round-trips, and values between two halves go to the nearer (ties to even).
func TestFloatToHalf(t *testing.T) {
	for h := range 1 << 16 {
		if h>>10&0x1f == 0x1f {
			continue // Inf/NaN: never converted
		}
		if got := floatToHalf(halfToFloat(uint16(h))); got != uint16(h) {
			t.Fatalf("round trip of %#04x gave %#04x", h, got)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		f := float32(math.Ldexp(r.Float64()*2-1, r.IntN(42)-26))
		h := floatToHalf(f)
		got := float64(halfToFloat(h))
		d := math.Abs(got - float64(f))
		for _, nb := range []uint16{h + 1, h - 1} {
			if nb>>10&0x1f == 0x1f || (nb^h)&0x8000 != 0 {
				continue
			}
			dn := math.Abs(float64(halfToFloat(nb)) - float64(f))
			if dn < d || (dn == d && h&1 == 1) {
				t.Fatalf("%v became %#04x (%v), but %#04x (%v) is nearer or even", f, h, got, nb, halfToFloat(nb))
			}
		}
	}
	if floatToHalf(0.5) != 0x3800 || floatToHalf(-2) != 0xc000 || floatToHalf(65504) != 0x7bff || floatToHalf(1e-9) != 0 {
		t.Error("wrong encoding of a known value")
	}
}
