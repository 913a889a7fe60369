// Package apikey mints, lists, revokes and checks seatgraph's API keys:
// long-lived credentials for applications, sent as
// "Authorization: ApiKey <key>", bound to a tenant, optionally an app, a set
// of scopes and an expiry. Only a SHA-256 digest of a key is stored.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.jetify.com/typeid"

	"seatgraph/internal/auth"
	"seatgraph/internal/clock"
	"seatgraph/internal/gid"
	"seatgraph/internal/store"
)

// A key reads "sgk_<id>_<secret>": the key's id as the 26-character
// suffix of its TypeID, and 32 random bytes in hex. The id lets the server
// find the key without knowing the tenant; the secret is what proves it.
const (
	keyPrefix  = "sgk_"
	idLen      = 26
	secretLen  = 64
	keyLen     = len(keyPrefix) + idLen + 1 + secretLen
	typeprefix = "key"
)

// Key is one stored API key (never the key itself).
type Key struct {
	bun.BaseModel `bun:"table:api_keys"`

	TenantID   string     `bun:"tenant_id,pk"`
	ID         uuid.UUID  `bun:"id,pk,type:uuid"`
	Name       string     `bun:"name"`
	AppID      *string    `bun:"app_id"`
	Scopes     []string   `bun:"scopes,array"`
	Hash       []byte     `bun:"hash"`
	CreatedAt  time.Time  `bun:"created_at"`
	CreatedBy  string     `bun:"created_by"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
}

// PublicID is the key's id as shown by list and taken by revoke.
func (k *Key) PublicID() string { return FormatID(k.ID) }

// Status is "active", "revoked" or "expired" at now.
func (k *Key) Status(now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return "expired"
	}
	return "active"
}

// FormatID renders a key id as a TypeID ("key_01j…").
func FormatID(id uuid.UUID) string {
	tid, err := typeid.FromUUIDBytesWithPrefix(typeprefix, id[:])
	if err != nil {
		panic(err) // the prefix is valid
	}
	return tid.String()
}

// ParseID reads a key id made by FormatID.
func ParseID(s string) (uuid.UUID, error) {
	tid, err := typeid.FromString(s)
	if err != nil || tid.Prefix() != typeprefix {
		return uuid.Nil, fmt.Errorf("%q is not an API key id (key_…)", s)
	}
	return uuid.FromBytes(tid.UUIDBytes())
}

// ErrMalformed is returned by Parse for anything that is not a key.
var ErrMalformed = errors.New("malformed API key")

// Parse checks the shape of key and returns the id it names.
func Parse(key string) (uuid.UUID, error) {
	if len(key) != keyLen || !strings.HasPrefix(key, keyPrefix) || key[len(keyPrefix)+idLen] != '_' {
		return uuid.Nil, ErrMalformed
	}
	suffix := key[len(keyPrefix) : len(keyPrefix)+idLen]
	id, err := ParseID(typeprefix + "_" + suffix)
	if err != nil {
		return uuid.Nil, ErrMalformed
	}
	for _, c := range key[len(keyPrefix)+idLen+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return uuid.Nil, ErrMalformed
		}
	}
	return id, nil
}

func digest(key string) []byte {
	d := sha256.Sum256([]byte(key))
	return d[:]
}

// Store reads and writes API keys. Minting, listing and revoking need the
// schema owner's connection; checking works with the server's role.
type Store struct{ db *bun.DB }

// NewStore returns a Store on db.
func NewStore(db *bun.DB) *Store { return &Store{db: db} }

// CreateRequest describes a key to mint.
type CreateRequest struct {
	Tenant    string
	App       string
	Name      string
	Scopes    []string
	TTL       time.Duration // 0: never expires
	CreatedBy string
}

// Create mints a key and returns it with its stored record. The key is
// not kept anywhere: this is the only time it exists in the clear.
func (s *Store) Create(ctx context.Context, r CreateRequest) (string, *Key, error) {
	if strings.TrimSpace(r.Tenant) == "" {
		return "", nil, errors.New("a tenant is required")
	}
	if err := store.CheckTenantID(r.Tenant); err != nil {
		return "", nil, err
	}
	if r.App != "" {
		if err := store.CheckAppID(r.App); err != nil {
			return "", nil, err
		}
	}
	if err := auth.CheckScopes(r.Scopes); err != nil {
		return "", nil, err
	}
	if r.TTL < 0 {
		return "", nil, errors.New("the lifetime must not be negative")
	}
	secret := make([]byte, secretLen/2)
	if _, err := rand.Read(secret); err != nil {
		return "", nil, err
	}
	k := &Key{TenantID: r.Tenant, ID: gid.New(), Name: r.Name, Scopes: r.Scopes,
		CreatedAt: time.Now().UTC(), CreatedBy: r.CreatedBy}
	if r.App != "" {
		k.AppID = &r.App
	}
	if r.TTL > 0 {
		exp := k.CreatedAt.Add(r.TTL)
		k.ExpiresAt = &exp
	}
	key := keyPrefix + strings.TrimPrefix(k.PublicID(), typeprefix+"_") + "_" + hex.EncodeToString(secret)
	k.Hash = digest(key)
	if _, err := s.db.NewInsert().Model(k).Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("store API key: %w", err)
	}
	return key, k, nil
}

// List returns the keys of tenant (of every tenant when tenant is empty),
// oldest first.
func (s *Store) List(ctx context.Context, tenant string) ([]*Key, error) {
	var keys []*Key
	q := s.db.NewSelect().Model(&keys).Order("tenant_id", "created_at", "id")
	if tenant != "" {
		q = q.Where("tenant_id = ?", tenant)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, err
	}
	return keys, nil
}

// ErrNotFound is returned by Revoke for an id with no key.
var ErrNotFound = errors.New("no such API key")

// ErrAlreadyRevoked is returned by Revoke for a key revoked before.
var ErrAlreadyRevoked = errors.New("API key was already revoked")

// Revoke revokes the key with public id id; it is refused from then on.
func (s *Store) Revoke(ctx context.Context, id string) (*Key, error) {
	u, err := ParseID(id)
	if err != nil {
		return nil, err
	}
	k := &Key{}
	err = s.db.NewUpdate().Model(k).Set("revoked_at = now()").
		Where("id = ?", u).Where("revoked_at IS NULL").Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		n, cerr := s.db.NewSelect().Model((*Key)(nil)).Where("id = ?", u).Count(ctx)
		switch {
		case cerr != nil:
			return nil, cerr
		case n == 0:
			return nil, ErrNotFound
		}
		return nil, ErrAlreadyRevoked
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// CheckKey verifies key and returns the principal it stands for. It
// implements auth.KeyChecker; refusals are auth.CredentialErrors, and
// other errors mean the database could not answer.
func (s *Store) CheckKey(ctx context.Context, key string) (*auth.Principal, error) {
	id, err := Parse(key)
	if err != nil {
		return nil, auth.Refused("malformed API key", err)
	}
	var row struct {
		TenantID  string
		AppID     *string
		Scopes    []string `bun:",array"`
		ExpiresAt *time.Time
		RevokedAt *time.Time
	}
	err = s.db.NewRaw("SELECT tenant_id, app_id, scopes, expires_at, revoked_at FROM api_key_authenticate(?, ?)",
		id, digest(key)).Scan(ctx, &row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, auth.Refused("unknown API key", errors.New("no key with this id and secret"))
	case err != nil:
		return nil, fmt.Errorf("look up API key: %w", err)
	case row.RevokedAt != nil:
		return nil, auth.Refused("API key has been revoked", fmt.Errorf("key %s revoked", FormatID(id)))
	case row.ExpiresAt != nil && !row.ExpiresAt.After(clock.Now()):
		return nil, auth.Refused("API key has expired", fmt.Errorf("key %s expired", FormatID(id)))
	}
	// Keys are minted through Create, but the table may have been written by hand.
	if err := store.CheckTenantID(row.TenantID); err != nil {
		return nil, auth.Refused("API key's tenant is invalid: "+err.Error(), err)
	}
	if row.AppID != nil {
		if err := store.CheckAppID(*row.AppID); err != nil {
			return nil, auth.Refused("API key's app is invalid: "+err.Error(), err)
		}
	}
	p := &auth.Principal{TenantID: row.TenantID, AppID: row.AppID, Subject: FormatID(id), Scopes: row.Scopes}
	if row.ExpiresAt != nil {
		p.Until = *row.ExpiresAt
	}
	return p, nil
}
