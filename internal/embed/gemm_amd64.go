//go:build amd64 && !purego

package embed

import "golang.org/x/sys/cpu"

// haveFMA selects the AVX2/FMA micro-kernel; it is fixed at start-up.
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// haveHalf selects the micro-kernel that reads half-float panels (F16C).
var haveHalf = haveFMA && cpu.X86.HasF16C

// sgemmKernelFMA is microKernel in AVX2/FMA assembly (gemm_amd64.s).
//
//go:noescape
func sgemmKernelFMA(mr, k int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, relu int, pf *float32)

// sgemmKernelHalf is sgemmKernelFMA for a panel of half floats (gemmh_amd64.s).
//
//go:noescape
func sgemmKernelHalf(mr, k int, a *float32, lda int, b *uint16, c *float32, ldc int, bias *float32, relu int, pf *uint16)
