// Package cursor is the one codec for the opaque pagination cursors of every
// connection. A cursor holds the row's sort key and id; clients must not
// rely on its contents.
package cursor

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// ErrInvalid is returned for a cursor this server did not make.
var ErrInvalid = errors.New("invalid cursor")

// Key is the position of a row in an ordered list: the value of the sort
// expression (as text, or nil when the order is by id alone) and the row id.
type Key struct {
	Order string    `json:"o"`
	Value *string   `json:"v,omitempty"`
	ID    uuid.UUID `json:"i"`
}

// Encode makes an opaque cursor from k: base64 of the JSON of k, the
// same bytes json.Marshal makes, written without reflection (every item
// of every page gets a cursor, asked for or not).
func Encode(k Key) string {
	var buf [160]byte
	b := append(buf[:0], `{"o":`...)
	b = appendString(b, k.Order)
	if k.Value != nil {
		b = append(b, `,"v":`...)
		b = appendString(b, *k.Value)
	}
	b = append(b, `,"i":"`...)
	b = appendUUID(b, k.ID)
	b = append(b, `"}`...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// appendUUID appends id in its canonical text form (as id.String()).
func appendUUID(b []byte, id uuid.UUID) []byte {
	var t [36]byte
	hex.Encode(t[0:8], id[0:4])
	hex.Encode(t[9:13], id[4:6])
	hex.Encode(t[14:18], id[6:8])
	hex.Encode(t[19:23], id[8:10])
	hex.Encode(t[24:], id[10:])
	t[8], t[13], t[18], t[23] = '-', '-', '-', '-'
	return append(b, t[:]...)
}

// appendString appends s as a JSON string, as json.Marshal writes it:
// quoted as it is when it holds only printable ASCII that needs no
// escape, otherwise by json.Marshal itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				panic(err) // a string always marshals
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Decode reads a cursor made by Encode for the given order.
func Decode(s, order string) (Key, error) {
	var k Key
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 1024 {
		return k, ErrInvalid
	}
	if err := json.Unmarshal(b, &k); err != nil || k.ID == uuid.Nil {
		return Key{}, ErrInvalid
	}
	if k.Order != order {
		// The message never echoes the cursor's contents: they are the
		// caller's, and may be crafted.
		return Key{}, fmt.Errorf("%w: it was made for another list or order", ErrInvalid)
	}
	// PostgreSQL text cannot hold U+0000, and the value reaches SQL.
	if k.Value != nil && strings.ContainsRune(*k.Value, 0) {
		return Key{}, ErrInvalid
	}
	return k, nil
}
