//go:build amd64 && !purego

#include "textflag.h"

// sgemmKernelHalf is sgemmKernelFMA (gemm_amd64.s) for a panel stored as
// IEEE half floats: each step loads 16 halves (32 bytes) and widens them to
// float32 with F16C's VCVTPH2PS, so the weights cost half the memory traffic.
// The prefetch pointer advances 32 bytes a step too (a line every two steps).

#define ROW(src, acc0, acc1) VBROADCASTSS src, Y14; VFMADD231PS Y12, Y14, acc0; VFMADD231PS Y13, Y14, acc1
#define STORE(acc0, acc1) VMOVUPS acc0, (DI); VMOVUPS acc1, 32(DI); ADDQ R10, DI
#define LOADH PREFETCHT0 (R11); VCVTPH2PS (BX), Y12; VCVTPH2PS 16(BX), Y13
#define NEXTH ADDQ $4, SI; ADDQ $4, R9; ADDQ $32, BX; ADDQ $32, R11; DECQ CX

// func sgemmKernelHalf(mr, k int, a *float32, lda int, b *uint16, c *float32, ldc int, bias *float32, relu int, pf *uint16)
TEXT ·sgemmKernelHalf(SB), NOSPLIT, $0-80
	MOVQ mr+0(FP), DX
	MOVQ k+8(FP), CX
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), R8
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R10
	MOVQ bias+56(FP), AX
	MOVQ pf+72(FP), R11
	SHLQ $2, R8
	SHLQ $2, R10
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9

	TESTQ AX, AX
	JEQ   nobias
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y1, Y3
	VMOVAPS Y0, Y4
	VMOVAPS Y1, Y5
	VMOVAPS Y0, Y6
	VMOVAPS Y1, Y7
	VMOVAPS Y0, Y8
	VMOVAPS Y1, Y9
	VMOVAPS Y0, Y10
	VMOVAPS Y1, Y11
	JMP   dispatch

nobias:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

dispatch:
	CMPQ DX, $6
	JEQ  rows6
	CMPQ DX, $5
	JEQ  rows5
	CMPQ DX, $4
	JEQ  rows4
	CMPQ DX, $3
	JEQ  rows3
	CMPQ DX, $2
	JEQ  rows2
	JMP  rows1

rows6:
	LOADH
	ROW((SI), Y0, Y1)
	ROW((SI)(R8*1), Y2, Y3)
	ROW((SI)(R8*2), Y4, Y5)
	ROW((R9), Y6, Y7)
	ROW((R9)(R8*1), Y8, Y9)
	ROW((R9)(R8*2), Y10, Y11)
	NEXTH
	JNZ  rows6
	JMP  epilogue

rows5:
	LOADH
	ROW((SI), Y0, Y1)
	ROW((SI)(R8*1), Y2, Y3)
	ROW((SI)(R8*2), Y4, Y5)
	ROW((R9), Y6, Y7)
	ROW((R9)(R8*1), Y8, Y9)
	NEXTH
	JNZ  rows5
	JMP  epilogue

rows4:
	LOADH
	ROW((SI), Y0, Y1)
	ROW((SI)(R8*1), Y2, Y3)
	ROW((SI)(R8*2), Y4, Y5)
	ROW((R9), Y6, Y7)
	NEXTH
	JNZ  rows4
	JMP  epilogue

rows3:
	LOADH
	ROW((SI), Y0, Y1)
	ROW((SI)(R8*1), Y2, Y3)
	ROW((SI)(R8*2), Y4, Y5)
	NEXTH
	JNZ  rows3
	JMP  epilogue

rows2:
	LOADH
	ROW((SI), Y0, Y1)
	ROW((SI)(R8*1), Y2, Y3)
	NEXTH
	JNZ  rows2
	JMP  epilogue

rows1:
	LOADH
	ROW((SI), Y0, Y1)
	NEXTH
	JNZ  rows1
	JMP  epilogue

epilogue:
	MOVQ  relu+64(FP), AX
	TESTQ AX, AX
	JEQ   stores
	VXORPS Y15, Y15, Y15
	VMAXPS Y15, Y0, Y0
	VMAXPS Y15, Y1, Y1
	VMAXPS Y15, Y2, Y2
	VMAXPS Y15, Y3, Y3
	VMAXPS Y15, Y4, Y4
	VMAXPS Y15, Y5, Y5
	VMAXPS Y15, Y6, Y6
	VMAXPS Y15, Y7, Y7
	VMAXPS Y15, Y8, Y8
	VMAXPS Y15, Y9, Y9
	VMAXPS Y15, Y10, Y10
	VMAXPS Y15, Y11, Y11

stores:
	CMPQ DX, $6
	JEQ  store6
	CMPQ DX, $5
	JEQ  store5
	CMPQ DX, $4
	JEQ  store4
	CMPQ DX, $3
	JEQ  store3
	CMPQ DX, $2
	JEQ  store2
	JMP  store1

store6:
	STORE(Y0, Y1)
	STORE(Y2, Y3)
	STORE(Y4, Y5)
	STORE(Y6, Y7)
	STORE(Y8, Y9)
	STORE(Y10, Y11)
	VZEROUPPER
	RET

store5:
	STORE(Y0, Y1)
	STORE(Y2, Y3)
	STORE(Y4, Y5)
	STORE(Y6, Y7)
	STORE(Y8, Y9)
	VZEROUPPER
	RET

store4:
	STORE(Y0, Y1)
	STORE(Y2, Y3)
	STORE(Y4, Y5)
	STORE(Y6, Y7)
	VZEROUPPER
	RET

store3:
	STORE(Y0, Y1)
	STORE(Y2, Y3)
	STORE(Y4, Y5)
	VZEROUPPER
	RET

store2:
	STORE(Y0, Y1)
	STORE(Y2, Y3)
	VZEROUPPER
	RET

store1:
	STORE(Y0, Y1)
	VZEROUPPER
	RET
