package imageio

import (
	"encoding/base64"
	"strings"

	"github.com/facereg/facereg"
)

// DecodeBase64 decodes an image sent as base64 text, with the default size
// limit (DefaultMaxBytes). See DecodeBase64Limit.
func DecodeBase64(s string) ([]byte, error) {
	return DecodeBase64Limit(s, DefaultMaxBytes)
}

// DecodeBase64Limit decodes an image sent as base64 text: raw base64 in the
// standard or the URL-safe alphabet, with or without padding, with any ASCII
// whitespace (line breaks included) anywhere, or a data URI
// ("data:image/jpeg;base64,..."; its media type is ignored, the bytes are
// sniffed by Decode). The decoded length is computed and checked against
// maxBytes (<= 0 means DefaultMaxBytes) before anything is allocated.
//
// Errors: IMAGE_EMPTY when there is no data, IMAGE_TOO_LARGE above maxBytes,
// IMAGE_INVALID for anything that is not base64.
func DecodeBase64Limit(s string, maxBytes int) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	payload := s
	if t := strings.TrimLeft(s, " \t\r\n\f\v"); len(t) >= 5 && strings.EqualFold(t[:5], "data:") {
		comma := strings.IndexByte(t, ',')
		if comma < 0 {
			return nil, facereg.Errorf(facereg.ImageInvalid, "the data URI has no ',' before its data")
		}
		meta := strings.TrimRight(t[5:comma], " \t\r\n\f\v")
		if len(meta) < 7 || !strings.EqualFold(meta[len(meta)-7:], ";base64") {
			return nil, facereg.Errorf(facereg.ImageInvalid, "the data URI is not base64-encoded (it must be data:<type>;base64,<data>)")
		}
		payload = t[comma+1:]
	}

	// First pass, allocation-free: count the base64 characters and the
	// trailing padding, so the decoded size is known before decoding.
	n, pad := 0, 0
	for i := 0; i < len(payload); i++ {
		switch c := payload[i]; c {
		case ' ', '\t', '\r', '\n', '\f', '\v':
		case '=':
			pad++
		default:
			if pad > 0 {
				return nil, badBase64()
			}
			n++
		}
	}
	if n == 0 {
		if pad > 0 {
			return nil, badBase64()
		}
		return nil, facereg.Errorf(facereg.ImageEmpty, "the image is empty (no base64 data)")
	}
	if size := n/4*3 + n%4*3/4; size > maxBytes {
		return nil, tooLarge(float64(size), float64(maxBytes), "bytes",
			"the image is %s; the limit is %s", sizeString(int64(size)), sizeString(int64(maxBytes)))
	}
	if pad > 2 || n%4 == 1 {
		return nil, badBase64()
	}

	// Second pass: keep the base64 characters and pick the alphabet.
	clean := make([]byte, 0, n)
	std, url := false, false
	for i := 0; i < len(payload); i++ {
		switch c := payload[i]; c {
		case ' ', '\t', '\r', '\n', '\f', '\v', '=':
		case '+', '/':
			std = true
			clean = append(clean, c)
		case '-', '_':
			url = true
			clean = append(clean, c)
		default:
			clean = append(clean, c)
		}
	}
	if std && url {
		return nil, badBase64()
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	m, err := enc.Decode(out, clean)
	if err != nil {
		return nil, badBase64()
	}
	return out[:m], nil
}

func badBase64() error {
	return facereg.Errorf(facereg.ImageInvalid,
		"the image is not valid base64 (standard or URL-safe alphabet, padding optional) or a data:<type>;base64, URI")
}
