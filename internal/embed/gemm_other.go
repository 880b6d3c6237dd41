//go:build !amd64 || purego

package embed

const (
	haveFMA  = false
	haveHalf = false
)

func sgemmKernelFMA(mr, k int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, relu int, pf *float32) {
	panic("embed: no assembly micro-kernel on this platform")
}

func sgemmKernelHalf(mr, k int, a *float32, lda int, b *uint16, c *float32, ldc int, bias *float32, relu int, pf *uint16) {
	panic("embed: no assembly micro-kernel on this platform")
}
