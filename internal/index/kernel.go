package index

import (
	"encoding/binary"
	"errors"
	"math"
)

// blockLen is the number of vectors stored interleaved in one block.
const blockLen = 8

// maxDim bounds the dimension so that every intermediate of the kernel fits:
// a 16-bit lane product is at most 255*255 = 65025 < 2^16, a 32-bit lane sum
// at most maxDim*65025 < 2^32, and a stored code sum at most maxDim*255 < 2^31.
const maxDim = 1 << 16

const (
	m16 = 0x00FF00FF00FF00FF // bytes 0,2,4,6 → 16-bit lanes
	m32 = 0x0000FFFF0000FFFF // 16-bit lanes 0,2 → 32-bit lanes
)

// errNotFinite is wrapped by ErrInvalidVector for NaN and ±Inf components.
var errNotFinite = errors.New("component is NaN or infinite")

// quantStep returns the quantisation step of v (maxabs/127, the value of one
// code unit) and its inverse multiplier 127/maxabs. A zero vector has step 0
// and inverse 0, so all its codes are 0.
func quantStep(v []float32) (step float32, inv float64, err error) {
	var lo, hi float32
	for _, x := range v {
		if x != x { // NaN
			return 0, 0, errNotFinite
		}
		if x > hi {
			hi = x
		} else if x < lo {
			lo = x
		}
	}
	maxAbs := max(hi, -lo)
	if maxAbs > math.MaxFloat32 { // ±Inf
		return 0, 0, errNotFinite
	}
	if maxAbs == 0 {
		return 0, 0, nil
	}
	return maxAbs / 127, 127 / float64(maxAbs), nil
}

// quantOne returns x*inv rounded half away from zero, clamped to [-127, 127].
func quantOne(x float32, inv float64) int32 {
	f := float64(x) * inv
	q := int32(f + math.Copysign(0.5, f)) // conversion truncates toward zero
	return min(max(q, -127), 127)
}

// blockDot computes, for the blockLen vectors of blk, the raw sums
//
//	out[l] = Σ_d qu[d] * blk[d*blockLen+l]
//
// where qu[d] = a_d+128 and the stored byte is u = b+128, both in [1, 255].
//
// It is SWAR ("SIMD within a register") in plain Go: one 64-bit load holds the
// codes of all eight vectors for dimension d; masking spreads the even and odd
// vectors into four 16-bit lanes each, and one 64-bit multiply by the scalar
// qu[d] produces four lane products at once (each ≤ 65025, so lanes never
// carry into each other). Products are summed whole into se/so (wrapping
// mod 2^64) while the odd 16-bit lanes are also summed into 32-bit lanes of
// he/ho; subtracting he<<16 from se leaves the even lanes as clean 32-bit sums.
// This needs two multiplies per eight multiply-adds instead of eight.
func blockDot(qu []uint64, blk []byte, out *[blockLen]uint32) {
	blk = blk[:len(qu)*blockLen]
	var se, so, he, ho uint64
	d := 0
	for ; d+2 <= len(qu); d += 2 {
		b := blk[d*blockLen : d*blockLen+2*blockLen : d*blockLen+2*blockLen]
		q := qu[d : d+2 : d+2]
		x := binary.LittleEndian.Uint64(b)
		y := binary.LittleEndian.Uint64(b[blockLen:])
		a, c := q[0], q[1]
		pe := (x & m16) * a
		po := ((x >> 8) & m16) * a
		qe := (y & m16) * c
		qo := ((y >> 8) & m16) * c
		se += pe + qe
		so += po + qo
		he += ((pe >> 16) & m32) + ((qe >> 16) & m32)
		ho += ((po >> 16) & m32) + ((qo >> 16) & m32)
	}
	if d < len(qu) { // odd dimension
		x := binary.LittleEndian.Uint64(blk[d*blockLen:])
		a := qu[d]
		pe := (x & m16) * a
		po := ((x >> 8) & m16) * a
		se += pe
		so += po
		he += (pe >> 16) & m32
		ho += (po >> 16) & m32
	}
	te := se - he<<16 // even 16-bit lanes 0 and 2 as 32-bit lanes
	to := so - ho<<16
	// Lane i of (x & m16) is vector 2i; lane i of (x>>8 & m16) is vector 2i+1.
	out[0] = uint32(te)
	out[2] = uint32(he)
	out[4] = uint32(te >> 32)
	out[6] = uint32(he >> 32)
	out[1] = uint32(to)
	out[3] = uint32(ho)
	out[5] = uint32(to >> 32)
	out[7] = uint32(ho >> 32)
}
