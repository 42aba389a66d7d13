package imageio

import (
	"bytes"
	"encoding/binary"

	"github.com/rwcarlsen/goexif/exif"
)

// jpegOrientation returns the EXIF orientation (1-8) of a JPEG file, and 1
// when it has none or its EXIF block is broken in any way.
func jpegOrientation(data []byte) int {
	seg := exifSegment(data)
	if seg == nil || !safeTIFF(seg[len(exifHeader):]) {
		return 1
	}
	return exifOrientation(seg)
}

const exifHeader = "Exif\x00\x00"

// exifSegment returns the payload of the first APP1 segment that holds EXIF
// ("Exif\0\0" followed by a TIFF structure), looking only at the marker
// segments before the first scan. goexif can search a whole JPEG itself, but
// it scans for any 0xFFE1 pair, including in entropy-coded data.
func exifSegment(data []byte) []byte {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return nil
		}
		m := data[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0x01 || m == 0xd8 || (m >= 0xd0 && m <= 0xd7): // no length
			i += 2
			continue
		case m == 0xda || m == 0xd9: // SOS or EOI: EXIF comes before the first scan
			return nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if m == 0xe1 && bytes.HasPrefix(seg, []byte(exifHeader)) {
			return seg
		}
		i += 2 + n
	}
	return nil
}

// exifOrientation reads the Orientation tag of an APP1 EXIF payload with
// goexif. The payload has passed safeTIFF; the recover is a last defence.
func exifOrientation(seg []byte) (o int) {
	defer func() {
		if recover() != nil {
			o = 1
		}
	}()
	// A non-nil x with an error means a sub-IFD (Exif, GPS, Interop) failed
	// to parse; IFD0, which holds Orientation, is still usable.
	x, _ := exif.Decode(bytes.NewReader(seg))
	if x == nil {
		return 1
	}
	tag, err := x.Get(exif.Orientation)
	if err != nil {
		return 1
	}
	v, err := tag.Int(0)
	if err != nil || v < 1 || v > 8 {
		return 1
	}
	return v
}

// TIFF tags whose value is the offset of a sub-IFD that goexif follows.
const (
	tagExifIFD    = 0x8769
	tagGPSIFD     = 0x8825
	tagInteropIFD = 0xa005
)

// tiffTypeSize is the size in bytes of each TIFF field type (1-12), 0 for
// unknown types.
var tiffTypeSize = [...]uint64{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8}

// safeTIFF reports whether goexif can be handed the TIFF structure t without
// risk. goexif trusts the structure: it multiplies count by type size in 32
// bits (a wrapped product lets make([]int64, count) ask for tens of GB, a
// fatal out-of-memory that recover cannot catch), and it follows IFD chains
// while only checking for a direct self-loop (A->B->A never ends). So every
// IFD goexif would read, the IFD0 chain and every Exif/GPS/Interop sub-IFD,
// is checked here first: inside t, no cycles, known field types, non-zero
// counts, and values inside t. Anything else is a broken EXIF block, read as
// orientation 1.
func safeTIFF(t []byte) bool {
	if len(t) < 8 {
		return false
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return false
	}
	const maxIFDs = 16
	seen := make(map[uint32]bool)
	var subs []uint32
	off := bo.Uint32(t[4:])
	for off != 0 {
		if seen[off] || len(seen) >= maxIFDs {
			return false
		}
		seen[off] = true
		next, ptrs, ok := checkIFD(t, off, bo)
		if !ok {
			return false
		}
		subs = append(subs, ptrs...)
		off = next
	}
	for len(subs) > 0 {
		off := subs[len(subs)-1]
		subs = subs[:len(subs)-1]
		if seen[off] {
			continue // already checked; goexif reads each pointer once
		}
		if len(seen) >= maxIFDs {
			return false
		}
		seen[off] = true
		_, ptrs, ok := checkIFD(t, off, bo)
		if !ok {
			return false
		}
		subs = append(subs, ptrs...)
	}
	return true
}

// checkIFD validates the IFD at off and returns the offset of the next IFD
// and the sub-IFD offsets it points to.
func checkIFD(t []byte, off uint32, bo binary.ByteOrder) (next uint32, subs []uint32, ok bool) {
	size := uint64(len(t))
	if off < 8 || uint64(off)+2 > size {
		return 0, nil, false
	}
	n := int16(bo.Uint16(t[off:])) // goexif reads the count as signed
	if n < 0 {
		return 0, nil, false
	}
	end := uint64(off) + 2 + 12*uint64(n)
	if end+4 > size {
		return 0, nil, false
	}
	for i := range uint64(n) {
		e := t[uint64(off)+2+12*i:][:12]
		id, typ, count := bo.Uint16(e), bo.Uint16(e[2:]), uint64(bo.Uint32(e[4:]))
		if typ == 0 || int(typ) >= len(tiffTypeSize) || count == 0 {
			return 0, nil, false
		}
		total := tiffTypeSize[typ] * count
		val := e[8:12]
		if total > 4 {
			voff := uint64(bo.Uint32(e[8:]))
			if voff+total > size {
				return 0, nil, false
			}
			val = t[voff : voff+total]
		}
		if id == tagExifIFD || id == tagGPSIFD || id == tagInteropIFD {
			// goexif reads the pointer with Int64(0), which only works
			// for integer types; a negative one fails its Seek.
			var p int64 = -1
			switch typ {
			case 1:
				p = int64(val[0])
			case 6:
				p = int64(int8(val[0]))
			case 3:
				p = int64(bo.Uint16(val))
			case 8:
				p = int64(int16(bo.Uint16(val)))
			case 4:
				p = int64(bo.Uint32(val))
			case 9:
				p = int64(int32(bo.Uint32(val)))
			}
			if p >= 0 {
				if uint64(p) >= size {
					return 0, nil, false
				}
				subs = append(subs, uint32(p))
			}
		}
	}
	return bo.Uint32(t[end:]), subs, true
}

// orient transforms im in place from its stored orientation to upright, for
// the EXIF orientation o (1-8; other values are ignored).
//
//	1: as stored              5: transposed (x and y swapped)
//	2: mirrored left-right    6: rotated 90° clockwise
//	3: rotated 180°           7: transversed (mirrored across the anti-diagonal)
//	4: mirrored top-bottom    8: rotated 90° counter-clockwise
func orient(im *Image, o int) {
	w, h := im.W, im.H
	p := im.Pix
	switch o {
	case 2:
		for y := range h {
			row := p[3*y*w : 3*(y+1)*w]
			for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
				swap3(row[3*i:], row[3*j:])
			}
		}
	case 3:
		for i, j := 0, w*h-1; i < j; i, j = i+1, j-1 {
			swap3(p[3*i:], p[3*j:])
		}
	case 4:
		tmp := make([]byte, 3*w)
		for i, j := 0, h-1; i < j; i, j = i+1, j-1 {
			a, b := p[3*i*w:3*(i+1)*w], p[3*j*w:3*(j+1)*w]
			copy(tmp, a)
			copy(a, b)
			copy(b, tmp)
		}
	case 5, 6, 7, 8:
		// Stored (x, y) goes to upright (x', y') in an h x w image, with
		// x' = y or h-1-y and y' = x or w-1-x. The copy goes in 64x64
		// tiles, so that the source rows read and the destination rows
		// written both stay in cache.
		flipX := o == 6 || o == 7 // x' = h-1-y
		flipY := o == 7 || o == 8 // y' = w-1-x
		dst := make([]byte, len(p))
		// Within a tile each source row is read left to right; its pixels
		// go down one column of the destination, step bytes apart.
		step := 3 * h
		if flipY {
			step = -step
		}
		const tile = 64
		for ty := 0; ty < h; ty += tile {
			ty1 := min(ty+tile, h)
			for tx := 0; tx < w; tx += tile {
				tx1 := min(tx+tile, w)
				yp := tx
				if flipY {
					yp = w - 1 - tx
				}
				for y := ty; y < ty1; y++ {
					xp := y
					if flipX {
						xp = h - 1 - y
					}
					src := p[3*(y*w+tx) : 3*(y*w+tx1)]
					di := 3 * (yp*h + xp)
					for i := 0; i+2 < len(src); i += 3 {
						d := dst[di : di+3 : di+3]
						d[0], d[1], d[2] = src[i], src[i+1], src[i+2]
						di += step
					}
				}
			}
		}
		im.W, im.H, im.Pix = h, w, dst
	}
}

func swap3(a, b []byte) {
	a, b = a[:3:3], b[:3:3]
	a[0], b[0] = b[0], a[0]
	a[1], b[1] = b[1], a[1]
	a[2], b[2] = b[2], a[2]
}
