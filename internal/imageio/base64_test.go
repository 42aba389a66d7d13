package imageio

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/facereg/facereg"
)

func TestDecodeBase64Variants(t *testing.T) {
	data := readFace(t, "identities/fr_obama/obama2.jpg")
	std := base64.StdEncoding.EncodeToString(data)
	url := base64.URLEncoding.EncodeToString(data)
	if !strings.ContainsAny(std, "+/") || !strings.ContainsAny(url, "-_") {
		t.Fatal("the photo's base64 does not exercise both alphabets")
	}
	var mime strings.Builder // 76-column lines, CRLF, as MIME writes it
	for i := 0; i < len(std); i += 76 {
		mime.WriteString(std[i:min(i+76, len(std))])
		mime.WriteString("\r\n")
	}
	for name, s := range map[string]string{
		"std":             std,
		"std-raw":         strings.TrimRight(std, "="),
		"url":             url,
		"url-raw":         base64.RawURLEncoding.EncodeToString(data),
		"mime-lines":      mime.String(),
		"spaces":          "  \n\t" + std[:100] + " \n " + std[100:] + "\n",
		"data-uri":        "data:image/jpeg;base64," + std,
		"data-uri-url":    "data:image/jpeg;base64," + url,
		"data-uri-upper":  "DATA:IMAGE/JPEG;BASE64," + std,
		"data-uri-lied":   "data:image/png;base64," + std, // type ignored
		"data-uri-params": "data:image/jpeg;name=face.jpg;base64," + mime.String(),
		"data-uri-spaces": "\n data:image/jpeg;base64,\n" + mime.String(),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeBase64(s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, want the %d of the photo", len(got), len(data))
			}
			if _, _, err := Decode(got, DefaultLimits()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDecodeBase64ShortInputs(t *testing.T) {
	// Every length remainder, with and without padding.
	for n := 1; n <= 7; n++ {
		raw := []byte("abcdefg")[:n]
		for _, s := range []string{base64.StdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw)} {
			got, err := DecodeBase64(s)
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("%q: %q, %v", s, got, err)
			}
		}
	}
}

func TestDecodeBase64Errors(t *testing.T) {
	for _, tc := range []struct {
		name, in, code string
	}{
		{"empty", "", facereg.ImageEmpty},
		{"blank", " \r\n\t ", facereg.ImageEmpty},
		{"data-uri-empty", "data:image/jpeg;base64,", facereg.ImageEmpty},
		{"data-uri-blank", "data:image/jpeg;base64,\n  ", facereg.ImageEmpty},
		{"bad-char", "QUJD*REVG", facereg.ImageInvalid},
		{"unicode", "QUJDREVGé", facereg.ImageInvalid},
		{"mixed-alphabets", "ab+/cd-_", facereg.ImageInvalid},
		{"padding-only", "====", facereg.ImageInvalid},
		{"too-much-padding", "QQ===", facereg.ImageInvalid},
		{"padding-in-middle", "QQ==QUJD", facereg.ImageInvalid},
		{"length-mod-4-is-1", "QUJDR", facereg.ImageInvalid},
		{"data-uri-no-comma", "data:image/jpeg;base64", facereg.ImageInvalid},
		{"data-uri-not-base64", "data:image/jpeg,%FF%D8%FF", facereg.ImageInvalid},
		{"data-uri-bad-payload", "data:image/jpeg;base64,!!!!", facereg.ImageInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBase64(tc.in)
			wantCode(t, err, tc.code)
		})
	}
}

// The size is checked from the length of the text, before anything is
// allocated for the decoded bytes.
func TestDecodeBase64TooLarge(t *testing.T) {
	s := strings.Repeat("QUJD", 1000) // 3000 bytes
	if _, err := DecodeBase64Limit(s, 3000); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, err := DecodeBase64Limit(s, 2999)
	e := wantCode(t, err, facereg.ImageTooLarge)
	if e.Measure == nil || e.Measure.Value != 3000 || e.Measure.Threshold != 2999 {
		t.Fatalf("measure %+v", e.Measure)
	}
	_, err = DecodeBase64Limit(strings.TrimRight(base64.StdEncoding.EncodeToString(make([]byte, 3001)), "="), 3000)
	wantCode(t, err, facereg.ImageTooLarge)

	huge := strings.Repeat("AAAA", (DefaultMaxBytes/3)+1) // 15 MiB + 3 bytes
	var herr error
	n := allocated(func() { _, herr = DecodeBase64(huge) })
	wantCode(t, herr, facereg.ImageTooLarge)
	if n > 1<<16 {
		t.Fatalf("refusing %d bytes of base64 allocated %d bytes", len(huge), n)
	}
	// Invalid characters are found after the size check: a huge invalid
	// string is still too large, without decoding.
	_, err = DecodeBase64(huge + "*")
	wantCode(t, err, facereg.ImageTooLarge)
}
