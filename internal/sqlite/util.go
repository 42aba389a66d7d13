package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/facereg/facereg"
)

// Driver error codes (extended result codes are on).
func errCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isUnique(err error) bool     { return errCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE }
func isForeignKey(err error) bool { return errCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }

func notFound(format string, args ...any) error {
	return facereg.Errorf(facereg.ENOTFOUND, format, args...)
}

func invalid(format string, args ...any) error {
	return facereg.Errorf(facereg.EINVALID, format, args...)
}

// Times are stored as unix nanoseconds, which cover the years 1678 to 2262.
// nanos clamps times outside that range (only filter bounds can be).
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// nullNanos maps a NULL column to nil.
func nullNanos(n *int64) *time.Time {
	if n == nil {
		return nil
	}
	t := fromNanos(*n)
	return &t
}

// orNow sets *t to now if it is zero and returns the stored value.
func orNow(t *time.Time, now time.Time) int64 {
	if t.IsZero() {
		*t = now
	}
	return nanos(*t)
}

// now is the store's clock, in UTC.
func now() time.Time { return time.Now().UTC() }

// encodeVector returns v as little-endian float32s.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("template of %d bytes is not a float32 vector", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// aad values, see the package comment.
func templateAAD(tenantID, key string) []byte { return []byte(tenantID + "/" + key) }
func faceAAD(tenantID, key string) []byte     { return []byte(tenantID + "/" + key + "/face") }
func taskAAD(tenantID, id string) []byte      { return []byte(tenantID + "/task/" + id) }
func recordAAD(tenantID, kind, id string) []byte {
	return []byte(tenantID + "/" + kind + "/" + id)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }
