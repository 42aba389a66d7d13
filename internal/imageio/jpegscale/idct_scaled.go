package jpegscale

import "math"

// jpegscale: the reduced inverse DCTs, new code (not from image/jpeg).
//
// JPEG's 8x8 IDCT (T.81, A.3.3) is
//
//	f(x, y) = 1/4 Σu Σv C(u) C(v) F(u, v) cos((2x+1)uπ/16) cos((2y+1)vπ/16)
//
// with C(0) = 1/√2 and C(k) = 1 otherwise, u horizontal and v vertical. A
// reduced IDCT to N x N pixels (N = 4, 2 or 1; each output pixel covers
// m x m pixels of the block, m = 8/N) keeps the N x N lowest-frequency
// coefficients and applies the N-point IDCT with the same normalisation:
//
//	f(x, y) = 1/4 Σu<N Σv<N C(u) C(v) a(u) a(v) F(u, v) cos((2x+1)uπ/2N) cos((2y+1)vπ/2N)
//
// cos((2x+1)uπ/2N) is the 8-point basis function at the centre of output
// pixel x (at 8-point position mx + (m-1)/2), and the weight
//
//	a(k) = sin(mkπ/16) / (m sin(kπ/16))    (a(0) = 1; for m = 2, a(k) = cos(kπ/16))
//
// is the mean of that cosine over the m pixels around the centre divided by
// its value there. So each output pixel is the exact m x m average of the
// block's low-pass part (its N x N lowest frequencies), not a point sample
// of it. libjpeg 7 and later (jidctint.c) use a(k) = 1, a point sample,
// which is a little sharper but rings more and lets through more of what a
// box filter removes: on the shared photos at 1/2 and 1/4, the mean
// difference from a full decode reduced by a box filter is about 0.6 and
// 0.9 levels with the weights, 0.9 and 1.45 without. The weights cost
// nothing, being folded into the constants. The DC term is F(0, 0)/8 at
// every size, the block's mean, so flat areas keep their level exactly and
// the 1x1 case is exactly the block's mean.
//
// The weights are 1 in a dimension that is not reduced: the chroma blocks
// of a subsampled image are decoded at up to 8x8 (see makeImg), and when
// those are reduced in one dimension only (8x4 for 4:2:2 at 1/2), each
// dimension follows its own size. The kernels: idct4x4, idct2x2 and
// idct1x1 for the square reductions; idct8x8Low for the 8x8 chroma blocks
// of a reduced decode when, as nearly always, only their 4x4 lowest
// frequencies are non-zero; idctRect, by matrices, for the rest. The
// tests check each against the definition in float64: they are within 0.6
// of it, that is, correctly rounded but for the fixed point's error.
//
// The arithmetic is 32-bit fixed point like image/jpeg's: constants with
// fixBits fractional bits, pass1Bits extra bits kept between the column and
// row passes, and a rounding shift at the end. Corrupt input can make the
// products wrap, as in image/jpeg; the results are then garbage but are
// still clamped to [0, 255].

const (
	fixBits   = 13
	pass1Bits = 2

	// The 4-point constants, round(2^13 * value): C(k) a(k) cos(...) with
	// a(k) = cos(kπ/16).
	fix4k0 = 5793 // 1/√2
	fix4k2 = 5352 // a(2) / √2
	fix4c1 = 7423 // a(1) cos(π/8)
	fix4c3 = 3075 // a(1) cos(3π/8)
	fix4d1 = 6293 // a(3) cos(π/8)
	fix4d3 = 2607 // a(3) cos(3π/8)

	// The 2-point constants: the basis is ±1/√2, which with C(k) and the
	// 1/4 gives ±1/8 for every term; a(1) = sin(π/4) / (4 sin(π/16)).
	fix2a1   = 7423 // a(1)
	fix2a1a1 = 6726 // a(1)²
)

// zigOf maps from the natural ordering to the zig-zag ordering: the inverse
// of unzig, to dequantize single coefficients (quantization tables are kept
// in zig-zag order).
var zigOf = func() (z [blockSize]uint8) {
	for i, n := range unzig {
		z[n] = uint8(i)
	}
	return z
}()

// clampLevel returns v clamped to [0, 255].
func clampLevel(v int32) uint8 {
	if uint32(v) <= 255 {
		return uint8(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// idct4x4 dequantizes the 4x4 lowest-frequency coefficients of b (natural
// order, not yet dequantized) with the zig-zag ordered table qt, runs the
// weighted 4-point IDCT on them, and writes the level-shifted, clamped 4x4
// pixels to dst, rows stride bytes apart.
func idct4x4(b, qt *block, dst []byte, stride int) {
	// The column pass; ws holds its output, row-major, scaled by
	// 2^pass1Bits.
	var ws [16]int32
	const sh1, rnd1 = fixBits - pass1Bits, 1 << (fixBits - pass1Bits - 1)
	for u := 0; u < 4; u++ {
		f0 := b[0*8+u] * qt[zigOf[0*8+u]]
		f1 := b[1*8+u] * qt[zigOf[1*8+u]]
		f2 := b[2*8+u] * qt[zigOf[2*8+u]]
		f3 := b[3*8+u] * qt[zigOf[3*8+u]]
		if f1|f2|f3 == 0 {
			// Only the DC of this column: a constant column.
			v := (f0*fix4k0 + rnd1) >> sh1
			ws[0*4+u], ws[1*4+u], ws[2*4+u], ws[3*4+u] = v, v, v, v
			continue
		}
		t0, t2 := f0*fix4k0+rnd1, f2*fix4k2
		e0, e1 := t0+t2, t0-t2
		o0 := f1*fix4c1 + f3*fix4d3
		o1 := f1*fix4c3 - f3*fix4d1
		ws[0*4+u] = (e0 + o0) >> sh1
		ws[1*4+u] = (e1 + o1) >> sh1
		ws[2*4+u] = (e1 - o1) >> sh1
		ws[3*4+u] = (e0 - o0) >> sh1
	}
	// The row pass. The result is 1/4 of the two 1-D transforms: shift out
	// the constant's bits, pass1Bits and 2 more; the level shift (+128)
	// and the rounding go into the even part, which is in every output
	// once.
	const sh = fixBits + pass1Bits + 2
	const bias = 128<<sh + 1<<(sh-1)
	for y := 0; y < 4; y++ {
		r := ws[4*y : 4*y+4 : 4*y+4]
		t0, t2 := r[0]*fix4k0+bias, r[2]*fix4k2
		e0, e1 := t0+t2, t0-t2
		o0 := r[1]*fix4c1 + r[3]*fix4d3
		o1 := r[1]*fix4c3 - r[3]*fix4d1
		d := dst[y*stride : y*stride+4 : y*stride+4]
		d[0] = clampLevel((e0 + o0) >> sh)
		d[1] = clampLevel((e1 + o1) >> sh)
		d[2] = clampLevel((e1 - o1) >> sh)
		d[3] = clampLevel((e0 - o0) >> sh)
	}
}

// idct2x2 is idct4x4 for the 2x2 lowest-frequency coefficients:
// f(x, y) = (F00 ± a F01 ± a F10 ± a² F11)/8, F01 horizontal.
func idct2x2(b, qt *block, dst []byte, stride int) {
	const sh = fixBits + 3
	const bias = 128<<sh + 1<<(sh-1)
	f00 := b[0]*qt[0]<<fixBits + bias
	f01 := b[1] * qt[zigOf[1]] * fix2a1
	f10 := b[8] * qt[zigOf[8]] * fix2a1
	f11 := b[9] * qt[zigOf[9]] * fix2a1a1
	p, q := f00+f10, f00-f10
	r, t := f01+f11, f01-f11
	d0 := dst[0:2:2]
	d0[0], d0[1] = clampLevel((p+r)>>sh), clampLevel((p-r)>>sh)
	d1 := dst[stride : stride+2 : stride+2]
	d1[0], d1[1] = clampLevel((q+t)>>sh), clampLevel((q-t)>>sh)
}

// idct1x1 returns the one pixel of a block reduced to 1x1: its DC term,
// F00/8, rounded and level-shifted, which is the mean of the block.
func idct1x1(b, qt *block) uint8 {
	return clampLevel((b[0]*qt[0] + 128<<3 + 1<<2) >> 3)
}

// The 8-point constants for idct8x8Low, round(2^13 * value).
const (
	fix8k0 = 5793 // 1/√2
	fix8e1 = 7568 // cos(π/8)
	fix8e3 = 3135 // cos(3π/8)
	fix8c1 = 8035 // cos(π/16)
	fix8c3 = 6811 // cos(3π/16)
	fix8c5 = 4551 // cos(5π/16)
	fix8c7 = 1598 // cos(7π/16)
)

// lowOnly reports whether all of b's non-zero coefficients are among its
// 4x4 lowest frequencies, as they are for nearly every chroma block.
func lowOnly(b *block) bool {
	var or int32
	for y := 0; y < 4; y++ {
		r := b[8*y+4 : 8*y+8 : 8*y+8]
		or |= r[0] | r[1] | r[2] | r[3]
	}
	for _, v := range b[32:] {
		or |= v
	}
	return or == 0
}

// idct8x8Low is the full-size 8x8 IDCT for a block whose non-zero
// coefficients are all among its 4x4 lowest frequencies (see lowOnly): the
// 8-point transform pruned to four inputs, 11 multiplications, on 4
// columns and then 8 rows. A reduced decode of a subsampled image decodes
// its chroma blocks at 8x8 (see makeImg), and this is most of the cost of
// decoding a 4:2:0 image at 1/2 with image/jpeg's IDCT. It is not used at
// full size, where image/jpeg's code keeps the output identical.
func idct8x8Low(b, qt *block, dst []byte, stride int) {
	var ws [32]int32 // 8 rows of 4
	const sh1, rnd1 = fixBits - pass1Bits, 1 << (fixBits - pass1Bits - 1)
	for u := 0; u < 4; u++ {
		f0 := b[0*8+u] * qt[zigOf[0*8+u]]
		f1 := b[1*8+u] * qt[zigOf[1*8+u]]
		f2 := b[2*8+u] * qt[zigOf[2*8+u]]
		f3 := b[3*8+u] * qt[zigOf[3*8+u]]
		if f1|f2|f3 == 0 {
			v := (f0*fix8k0 + rnd1) >> sh1
			for y := 0; y < 8; y++ {
				ws[y*4+u] = v
			}
			continue
		}
		t0 := f0*fix8k0 + rnd1
		e0, e3 := t0+f2*fix8e1, t0-f2*fix8e1
		e1, e2 := t0+f2*fix8e3, t0-f2*fix8e3
		o0 := f1*fix8c1 + f3*fix8c3
		o1 := f1*fix8c3 - f3*fix8c7
		o2 := f1*fix8c5 - f3*fix8c1
		o3 := f1*fix8c7 - f3*fix8c5
		ws[0*4+u], ws[7*4+u] = (e0+o0)>>sh1, (e0-o0)>>sh1
		ws[1*4+u], ws[6*4+u] = (e1+o1)>>sh1, (e1-o1)>>sh1
		ws[2*4+u], ws[5*4+u] = (e2+o2)>>sh1, (e2-o2)>>sh1
		ws[3*4+u], ws[4*4+u] = (e3+o3)>>sh1, (e3-o3)>>sh1
	}
	const sh = fixBits + pass1Bits + 2
	const bias = 128<<sh + 1<<(sh-1)
	for y := 0; y < 8; y++ {
		r := ws[4*y : 4*y+4 : 4*y+4]
		d := dst[y*stride : y*stride+8 : y*stride+8]
		t0 := r[0]*fix8k0 + bias
		if r[1]|r[2]|r[3] == 0 {
			v := clampLevel(t0 >> sh)
			d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = v, v, v, v, v, v, v, v
			continue
		}
		e0, e3 := t0+r[2]*fix8e1, t0-r[2]*fix8e1
		e1, e2 := t0+r[2]*fix8e3, t0-r[2]*fix8e3
		o0 := r[1]*fix8c1 + r[3]*fix8c3
		o1 := r[1]*fix8c3 - r[3]*fix8c7
		o2 := r[1]*fix8c5 - r[3]*fix8c1
		o3 := r[1]*fix8c7 - r[3]*fix8c5
		d[0], d[7] = clampLevel((e0+o0)>>sh), clampLevel((e0-o0)>>sh)
		d[1], d[6] = clampLevel((e1+o1)>>sh), clampLevel((e1-o1)>>sh)
		d[2], d[5] = clampLevel((e2+o2)>>sh), clampLevel((e2-o2)>>sh)
		d[3], d[4] = clampLevel((e3+o3)>>sh), clampLevel((e3-o3)>>sh)
	}
}

// idctWeight is a(k) for a reduction of 8 points to n.
func idctWeight(n, k int) float64 {
	if k == 0 || n == 8 {
		return 1
	}
	m := float64(8 / n)
	return math.Sin(m*float64(k)*math.Pi/16) / (m * math.Sin(float64(k)*math.Pi/16))
}

// idctMatrix[n] is the weighted n-point IDCT (n = 1, 2, 4 or 8) as an n x n
// matrix in fixBits fixed point, row-major: entry (i, k) is
// C(k) a(k) cos((2i+1)kπ/2n).
var idctMatrix = func() (m [9][]int32) {
	for _, n := range []int{1, 2, 4, 8} {
		m[n] = make([]int32, n*n)
		for i := range n {
			for k := range n {
				c := math.Cos(float64((2*i+1)*k)*math.Pi/float64(2*n)) * idctWeight(n, k)
				if k == 0 {
					c = 1 / math.Sqrt2
				}
				m[n][i*n+k] = int32(math.Round(c * (1 << fixBits)))
			}
		}
	}
	return m
}()

// idctRect is the reduced IDCT to w x h pixels (each 1, 2, 4 or 8), for the
// chroma blocks that makeImg has decoded to a rectangle, such as the 8x4
// chroma blocks of a 4:2:2 image at 1/2. It multiplies by the matrices,
// which is slower than the fast kernels but only runs for the less common
// subsamplings; the sums are in 64 bits, as eight products can exceed 32.
func idctRect(b, qt *block, w, h int, dst []byte, stride int) {
	mw, mh := idctMatrix[w], idctMatrix[h]
	var ws [blockSize]int64 // h rows of w, 8 apart
	var f [8]int64
	for u := 0; u < w; u++ {
		for v := 0; v < h; v++ {
			f[v] = int64(b[v*8+u] * qt[zigOf[v*8+u]])
		}
		for i := 0; i < h; i++ {
			acc := int64(1 << (fixBits - pass1Bits - 1))
			for v, c := range mh[i*h : i*h+h] {
				acc += int64(c) * f[v]
			}
			ws[i*8+u] = acc >> (fixBits - pass1Bits)
		}
	}
	const sh = fixBits + pass1Bits + 2
	const bias = 128<<sh + 1<<(sh-1)
	for y := 0; y < h; y++ {
		r := ws[y*8 : y*8+w]
		d := dst[y*stride : y*stride+w]
		for x := range d {
			acc := int64(bias)
			for u, c := range mw[x*w : x*w+w] {
				acc += int64(c) * r[u]
			}
			d[x] = clampLevel64(acc >> sh)
		}
	}
}

func clampLevel64(v int64) uint8 {
	if uint64(v) <= 255 {
		return uint8(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}
