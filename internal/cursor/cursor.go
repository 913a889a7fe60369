// Package cursor is the one codec for the opaque pagination cursors of every
// connection. A cursor holds the row's sort key and id; clients must not
// rely on its contents.
package cursor

import (
	"encoding/base64"
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

// Encode makes an opaque cursor from k.
func Encode(k Key) string {
	b, err := json.Marshal(k)
	if err != nil {
		panic(err) // a Key always marshals
	}
	return base64.RawURLEncoding.EncodeToString(b)
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
