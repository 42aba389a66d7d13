// Package seal implements facereg.Sealer: AES-256-GCM encryption of data at
// rest (templates, face crops, queued task requests, adapter records), and a
// Nop sealer for deployments that explicitly disable encryption.
//
// A sealed value is self-describing:
//
//	version (1 byte) | key id (8 bytes) | nonce (12 bytes) | GCM ciphertext and tag
//
// Version 1 is AES-256-GCM; the key id is the first 8 bytes of the SHA-256 of
// the key, so a value sealed with another key is reported as ErrWrongKey
// rather than as tampering. The version byte and key id are authenticated
// together with the caller's aad. Version 0 is the Nop format: a zero byte
// followed by the plaintext.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/facereg/facereg"
)

// Format versions, the first byte of every sealed value.
const (
	VersionNop    byte = 0 // plaintext, see Nop
	VersionAESGCM byte = 1 // AES-256-GCM, see AESGCM
)

// KeySize is the length in bytes of an AES-256 key.
const KeySize = 32

const (
	keyIDSize  = 8
	nonceSize  = 12
	headerSize = 1 + keyIDSize // version and key id
)

// Errors returned by Open, possibly wrapped: test with errors.Is.
var (
	// ErrWrongKey means the value was sealed with another key than this
	// sealer's (its key id does not match).
	ErrWrongKey = errors.New("seal: data was sealed with a different encryption key")
	// ErrTampered means authentication failed: the value was modified, or it
	// is bound (by its aad) to another row.
	ErrTampered = errors.New("seal: authentication failed: data was modified or belongs to another row")
	// ErrMalformed means the value is too short or has an unknown version.
	ErrMalformed = errors.New("seal: malformed sealed data")
	// ErrNotEncrypted means an encrypting sealer was given a plaintext (Nop)
	// value: the data was written with encryption disabled.
	ErrNotEncrypted = errors.New("seal: data is not encrypted (written with encryption disabled)")
	// ErrEncrypted means the Nop sealer was given an encrypted value: the
	// data was written with encryption enabled and needs its key.
	ErrEncrypted = errors.New("seal: data is encrypted and encryption is disabled")
)

// AESGCM seals with AES-256-GCM under one key. It is safe for concurrent use.
type AESGCM struct {
	aead  cipher.AEAD
	keyID [keyIDSize]byte
}

var _ facereg.Sealer = (*AESGCM)(nil)

// New returns an AES-256-GCM sealer for key, which must be KeySize bytes.
// The key is not retained beyond the cipher's expanded key schedule.
func New(key []byte) (*AESGCM, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	s := &AESGCM{aead: aead}
	copy(s.keyID[:], KeyID(key))
	return s, nil
}

// KeyID returns the 8-byte key id of key: the first 8 bytes of its SHA-256.
// It identifies a key in sealed values and logs without revealing it.
func KeyID(key []byte) []byte {
	sum := sha256.Sum256(key)
	return sum[:keyIDSize]
}

// KeyID returns the hex key id of the sealer's key, safe to log.
func (s *AESGCM) KeyID() string { return hex.EncodeToString(s.keyID[:]) }

// Seal encrypts plaintext bound to aad with a fresh random nonce.
func (s *AESGCM) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, headerSize+nonceSize, headerSize+nonceSize+len(plaintext)+s.aead.Overhead())
	out[0] = VersionAESGCM
	copy(out[1:headerSize], s.keyID[:])
	nonce := out[headerSize : headerSize+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return s.aead.Seal(out, nonce, plaintext, additional(out[:headerSize], aad)), nil
}

// Open decrypts a value made by Seal with the same key and aad. It returns
// ErrWrongKey, ErrTampered, ErrMalformed or ErrNotEncrypted (wrapped).
func (s *AESGCM) Open(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	switch ciphertext[0] {
	case VersionAESGCM:
	case VersionNop:
		return nil, ErrNotEncrypted
	default:
		return nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, ciphertext[0])
	}
	if len(ciphertext) < headerSize+nonceSize+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(ciphertext))
	}
	if id := ciphertext[1:headerSize]; !bytes.Equal(id, s.keyID[:]) {
		return nil, fmt.Errorf("%w (sealed with key id %x, current key id %x)", ErrWrongKey, id, s.keyID[:])
	}
	nonce := ciphertext[headerSize : headerSize+nonceSize]
	plain, err := s.aead.Open(nil, nonce, ciphertext[headerSize+nonceSize:], additional(ciphertext[:headerSize], aad))
	if err != nil {
		return nil, ErrTampered
	}
	if plain == nil {
		plain = []byte{}
	}
	return plain, nil
}

// additional is the GCM additional data: the header, then the caller's aad.
func additional(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	return append(append(ad, header...), aad...)
}

// Nop is the identity sealer for deployments that explicitly disable
// encryption at rest: Seal prefixes VersionNop and ignores aad. Its Open
// refuses encrypted values with ErrEncrypted rather than returning
// ciphertext as if it were plaintext.
type Nop struct{}

var _ facereg.Sealer = Nop{}

// Seal returns a copy of plaintext prefixed by VersionNop.
func (Nop) Seal(plaintext, _ []byte) ([]byte, error) {
	out := make([]byte, 1, 1+len(plaintext))
	out[0] = VersionNop
	return append(out, plaintext...), nil
}

// Open returns a copy of the plaintext of a value made by Nop.Seal.
func (Nop) Open(ciphertext, _ []byte) ([]byte, error) {
	if len(ciphertext) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	switch ciphertext[0] {
	case VersionNop:
		return append([]byte{}, ciphertext[1:]...), nil
	case VersionAESGCM:
		return nil, ErrEncrypted
	default:
		return nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, ciphertext[0])
	}
}
