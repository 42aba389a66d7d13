package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/facereg/facereg"
)

// CreateTenant creates a tenant with the default settings and its first API
// key, returned in clear text once.
func (s *Service) CreateTenant(ctx context.Context, name string) (*facereg.Tenant, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, "", facereg.Errorf(facereg.EINVALID, "tenant name must be 1 to 200 characters")
	}
	th := s.thresholds()
	t := &facereg.Tenant{ID: uuid.NewString(), Name: name, Settings: facereg.DefaultTenantSettings(th.Liveness, th.Match), CreatedAt: s.now().UTC()}
	if err := s.store.CreateTenant(ctx, t); err != nil {
		return nil, "", err
	}
	_, secret, err := s.CreateKey(ctx, t.ID)
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// API keys look like frk_<id>_<secret>: the id (10 random bytes) finds the
// row, the secret (32 random bytes) is checked against its SHA-256. A fast
// hash is right here: the secret has 256 bits of entropy, so there is
// nothing to brute-force, and it keeps authentication off the hot path.
var keyEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

func randToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return strings.ToLower(keyEnc.EncodeToString(b))
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateKey makes a new API key for a tenant. Returns ENOTFOUND for an
// unknown tenant.
func (s *Service) CreateKey(ctx context.Context, tenantID string) (*facereg.APIKey, string, error) {
	if _, err := s.store.Tenant(ctx, tenantID); err != nil {
		return nil, "", err
	}
	id, secret := randToken(10), randToken(32)
	k := &facereg.APIKey{ID: id, TenantID: tenantID, Hash: hashSecret(secret), CreatedAt: s.now().UTC()}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, "frk_" + id + "_" + secret, nil
}

// RevokeKey revokes a key at once (also in this process's cache).
func (s *Service) RevokeKey(ctx context.Context, tenantID, keyID string) error {
	if err := s.store.RevokeAPIKey(ctx, tenantID, keyID); err != nil {
		return err
	}
	s.keyCache.Delete(keyID)
	return nil
}

type cachedKey struct {
	key     *facereg.APIKey
	tenant  *facereg.Tenant
	fetched time.Time
}

// keyCacheTTL bounds how long a key revoked by another process (the CLI)
// stays usable here.
const keyCacheTTL = 5 * time.Second

// Authenticate returns the tenant of an API key. Unknown, malformed and
// revoked keys all get the same EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, token string) (*facereg.Tenant, error) {
	unauth := facereg.Errorf(facereg.EUNAUTHORIZED, "missing or invalid API key")
	parts := strings.Split(token, "_")
	if len(parts) != 3 || parts[0] != "frk" || len(parts[1]) != 16 || len(parts[2]) == 0 {
		return nil, unauth
	}
	var ck *cachedKey
	if v, ok := s.keyCache.Load(parts[1]); ok && s.now().Sub(v.(*cachedKey).fetched) < keyCacheTTL {
		ck = v.(*cachedKey)
	} else {
		k, err := s.store.APIKey(ctx, parts[1])
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			return nil, unauth
		} else if err != nil {
			return nil, err
		}
		t, err := s.store.Tenant(ctx, k.TenantID)
		if err != nil {
			return nil, err
		}
		ck = &cachedKey{key: k, tenant: t, fetched: s.now()}
		s.keyCache.Store(parts[1], ck)
	}
	if ck.key.RevokedAt != nil || subtle.ConstantTimeCompare(ck.key.Hash, hashSecret(parts[2])) != 1 {
		return nil, unauth
	}
	return ck.tenant, nil
}

// TenantByClientID returns a tenant by its public client id (ENOTFOUND).
func (s *Service) TenantByClientID(ctx context.Context, id string) (*facereg.Tenant, error) {
	return s.store.Tenant(ctx, id)
}

// UpdateSettings validates and stores a tenant's settings.
func (s *Service) UpdateSettings(ctx context.Context, t *facereg.Tenant, st facereg.TenantSettings) error {
	if st.LivenessThreshold < 0 || st.LivenessThreshold > 1 || st.MatchThreshold <= 0 || st.MatchThreshold > 1 {
		return facereg.Errorf(facereg.EINVALID, "liveness_threshold must be in [0,1] and match_threshold in (0,1]")
	}
	for _, q := range st.Quality {
		ok := false
		for _, r := range facereg.QualityReasons {
			ok = ok || r == q
		}
		if !ok {
			return facereg.Errorf(facereg.EINVALID, "unknown quality code %q in quality_policy", q)
		}
	}
	if st.WebhookURL != "" && !strings.HasPrefix(st.WebhookURL, "http://") && !strings.HasPrefix(st.WebhookURL, "https://") {
		return facereg.Errorf(facereg.EINVALID, "webhook_url must be an http or https URL")
	}
	if err := s.store.UpdateTenantSettings(ctx, t.ID, st); err != nil {
		return err
	}
	t.Settings = st
	s.keyCache.Range(func(k, v any) bool {
		if v.(*cachedKey).tenant.ID == t.ID {
			s.keyCache.Delete(k)
		}
		return true
	})
	return nil
}
