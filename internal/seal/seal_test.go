package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealer(t *testing.T) *AESGCM {
	t.Helper()
	s, err := New(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New accepted a %d-byte key", n)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	s := newSealer(t)
	for _, plain := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("template"), 1000)} {
		aad := []byte("tenant/key")
		c, err := s.Seal(plain, aad)
		if err != nil {
			t.Fatal(err)
		}
		if c[0] != VersionAESGCM {
			t.Fatalf("version byte %d", c[0])
		}
		if want := 1 + 8 + 12 + len(plain) + 16; len(c) != want {
			t.Fatalf("ciphertext is %d bytes, want %d", len(c), want)
		}
		if len(plain) > 4 && bytes.Contains(c, plain[:len(plain)/2]) {
			t.Fatal("ciphertext contains the plaintext")
		}
		got, err := s.Open(c, aad)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, want %q", got, plain)
		}
	}
}

func TestNonceIsRandom(t *testing.T) {
	s := newSealer(t)
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestKeyID(t *testing.T) {
	k := newKey(t)
	s, _ := New(k)
	c, _ := s.Seal([]byte("x"), nil)
	if !bytes.Equal(c[1:9], KeyID(k)) {
		t.Fatal("ciphertext does not carry the key id")
	}
	if len(s.KeyID()) != 16 {
		t.Fatalf("KeyID() = %q", s.KeyID())
	}
}

func TestTamper(t *testing.T) {
	s := newSealer(t)
	aad := []byte("t1/k1")
	c, _ := s.Seal([]byte("a face template"), aad)
	for i := range c {
		bad := bytes.Clone(c)
		bad[i] ^= 0x01
		_, err := s.Open(bad, aad)
		if err == nil {
			t.Fatalf("flipping a bit of byte %d went unnoticed", i)
		}
		var want error
		switch {
		case i == 0:
			want = ErrMalformed // version 1 -> 0 reads as Nop: ErrNotEncrypted
			if bad[0] == VersionNop {
				want = ErrNotEncrypted
			}
		case i < 9:
			want = ErrWrongKey
		default:
			want = ErrTampered
		}
		if !errors.Is(err, want) {
			t.Errorf("byte %d: err = %v, want %v", i, err, want)
		}
	}
	if _, err := s.Open(c[:len(c)-1], aad); !errors.Is(err, ErrTampered) {
		t.Errorf("truncated: err = %v", err)
	}
	if _, err := s.Open(c[:20], aad); !errors.Is(err, ErrMalformed) {
		t.Errorf("short: err = %v", err)
	}
	if _, err := s.Open(nil, aad); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty: err = %v", err)
	}
}

func TestWrongAAD(t *testing.T) {
	s := newSealer(t)
	c, _ := s.Seal([]byte("x"), []byte("t1/k1"))
	for _, aad := range [][]byte{nil, []byte("t1/k2"), []byte("t2/k1"), []byte("t1/k1/face")} {
		if _, err := s.Open(c, aad); !errors.Is(err, ErrTampered) {
			t.Errorf("aad %q: err = %v, want ErrTampered", aad, err)
		}
	}
}

func TestWrongKey(t *testing.T) {
	a, b := newSealer(t), newSealer(t)
	c, _ := a.Seal([]byte("x"), nil)
	_, err := b.Open(c, nil)
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v, want ErrWrongKey", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(a.KeyID())) {
		t.Errorf("error %q does not name the key id the data was sealed with", err)
	}
}

func TestNop(t *testing.T) {
	var n Nop
	c, err := n.Seal([]byte("plain"), []byte("ignored"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c, []byte("\x00plain")) {
		t.Fatalf("Nop.Seal = %q", c)
	}
	got, err := n.Open(c, nil)
	if err != nil || string(got) != "plain" {
		t.Fatalf("Nop.Open = %q, %v", got, err)
	}
	empty, _ := n.Seal(nil, nil)
	if got, err := n.Open(empty, nil); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Nop.Open(empty) = %q, %v", got, err)
	}

	s := newSealer(t)
	if _, err := s.Open(c, nil); !errors.Is(err, ErrNotEncrypted) {
		t.Errorf("AESGCM.Open(nop) err = %v", err)
	}
	enc, _ := s.Seal([]byte("x"), nil)
	if _, err := n.Open(enc, nil); !errors.Is(err, ErrEncrypted) {
		t.Errorf("Nop.Open(aes) err = %v", err)
	}
	if _, err := n.Open([]byte{7, 1}, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("Nop.Open(v7) err = %v", err)
	}
}
