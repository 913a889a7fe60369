// Package scim serves SCIM 2.0 (RFC 7643, RFC 7644) so that identity
// providers (Microsoft Entra ID, Okta) provision people and groups: SCIM
// Users are People, Groups are Groups, and membership drives inherited
// seats through the same services as the GraphQL API (internal/directory
// and the seat engine in internal/licensing), one transaction per write.
//
// The protocol (routing, ListResponse and Error messages, schema checks of
// bodies, PATCH and filter parsing, /Schemas and /ResourceTypes) is
// github.com/elimity-com/scim's; this package maps resources to the domain,
// filters to SQL, and adds what the library leaves to its user: the
// credentials, the ServiceProviderConfig seatgraph really supports,
// attribute projection, ETags and If-Match, and the filter form Entra sends
// (emails[type eq "work"].value eq "…").
package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"seatgraph/internal/auth"
	"seatgraph/internal/licensing"
	"seatgraph/internal/logging"
	"seatgraph/internal/pgtext"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/internal/telemetry"
	"seatgraph/models"
)

// MediaType is the SCIM media type every answer carries.
const MediaType = "application/scim+json"

// Source is the provenance stamped on records SCIM writes.
const Source = "scim"

// MaxResults is the most resources one list answer holds.
const MaxResults = 100

func init() {
	// Entra ID sends booleans as strings ("False") in PATCH requests.
	schema.SetAllowStringValues(true)
}

// Handler serves /scim/v2 (mounted under /scim).
type Handler struct {
	db    *store.DB
	authn *auth.Authenticator
	types []scim.ResourceType
}

// New returns the SCIM handler; mount it at /scim/ (it serves /scim/v2/…).
func New(db *store.DB, authn *auth.Authenticator) *Handler {
	h := &Handler{db: db, authn: authn}
	h.types = []scim.ResourceType{
		{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Description: optional.NewString("People who can hold seats"),
			Schema: schema.CoreUserSchema(), Handler: users{db},
			SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}}},
		{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Description: optional.NewString("Groups; their license grants reach every member"),
			Schema: schema.CoreGroupSchema(), Handler: groups{db}},
	}
	return h
}

// ServeHTTP authenticates the caller, then answers the SCIM request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", MediaType)
	path, ok := strings.CutPrefix(r.URL.Path, "/scim/v2")
	if !ok || (path != "" && !strings.HasPrefix(path, "/")) {
		writeError(w, http.StatusNotFound, "", "not found: SCIM is served under /scim/v2")
		return
	}
	p, status, msg := h.authenticate(r)
	if p == nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="seatgraph"`)
		}
		writeError(w, status, "", msg)
		return
	}
	r = r.WithContext(auth.WithPrincipal(r.Context(), p))
	if path == "/ServiceProviderConfig" {
		serviceProviderConfig(w, r)
		return
	}
	if r.Body != nil {
		// Read the body here, so that one over the server's limit is
		// answered 413 (the library would read it as malformed).
		body, err := io.ReadAll(r.Body)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("the body is larger than %d bytes", tooLarge.Limit))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if status, scimType, msg := checkText(body); status != 0 {
			writeError(w, status, scimType, msg)
			return
		}
		if r.Method == http.MethodPatch && strings.HasPrefix(path, "/Users/") {
			var se scimerrors.ScimError
			if body, err = screenUserPatch(body); errors.As(err, &se) {
				writeError(w, se.Status, string(se.ScimType), se.Detail)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
	}
	for _, vs := range r.URL.Query() {
		for _, v := range vs {
			if strings.ContainsRune(v, 0) {
				writeError(w, http.StatusBadRequest, string(scimerrors.ScimTypeInvalidFilter), "parameters must not contain the NUL character (U+0000)")
				return
			}
		}
	}
	rewriteFilter(r)
	// The library routes paths below /v2.
	u := *r.URL
	u.Path, u.RawPath = "/v2"+path, ""
	r.URL = &u
	srv, err := scim.NewServer(&scim.ServerArgs{ServiceProviderConfig: &scim.ServiceProviderConfig{
		MaxResults: MaxResults, SupportFiltering: true, SupportPatch: true}, ResourceTypes: h.types},
		scim.WithBaseURL(baseURL(r)), scim.WithLogger(logger{r.Context()}))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "", "internal server error")
		return
	}
	srv.ServeHTTP(w, r)
}

// checkText refuses a body that is not UTF-8 (invalidSyntax: it would
// be stored with U+FFFD in place of the bad bytes) or that holds U+0000 in
// any string or key (invalidValue: PostgreSQL text cannot store it). A
// body that is not JSON is left to the library, which refuses it.
func checkText(body []byte) (int, string, string) {
	if !utf8.Valid(body) {
		return http.StatusBadRequest, string(scimerrors.ScimTypeInvalidSyntax), "the body is not valid UTF-8"
	}
	var v any
	if json.Unmarshal(body, &v) == nil && pgtext.HasNUL(v) {
		return http.StatusBadRequest, string(scimerrors.ScimTypeInvalidValue), "strings must not contain the NUL character (U+0000)"
	}
	return 0, "", ""
}

// authenticate reads the credentials: a JWT or an API key, both sent as
// "Authorization: Bearer …" (the only scheme identity providers send; an
// API key, sgk_…, is recognised by its prefix) or an API key as
// "ApiKey …". The caller needs the scim scope.
func (h *Handler) authenticate(r *http.Request) (*auth.Principal, int, string) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return nil, http.StatusUnauthorized, "credentials required: Authorization: Bearer <API key or JWT> with the scim scope"
	}
	if scheme, value, ok := strings.Cut(header, " "); ok && strings.EqualFold(scheme, auth.SchemeBearer) &&
		strings.HasPrefix(strings.TrimSpace(value), "sgk_") {
		header = auth.SchemeAPIKey + " " + strings.TrimSpace(value)
	}
	p, err := h.authn.Authenticate(r.Context(), header)
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		return nil, http.StatusUnauthorized, auth.Reason(err)
	case err != nil:
		logging.From(r.Context()).ErrorContext(r.Context(), "credentials could not be checked", "error", err.Error())
		return nil, http.StatusServiceUnavailable, "credentials could not be checked; try again"
	}
	app := ""
	if p.AppID != nil {
		app = *p.AppID
	}
	telemetry.From(r.Context()).SetCaller(p.TenantID, app, p.Subject)
	if !p.Has(auth.ScopeSCIM) {
		return nil, http.StatusForbidden, "the credentials lack the scim scope"
	}
	if p.AppID != nil {
		// An app's reads see only its own records while usernames and
		// emails are unique tenant-wide: an identity provider would meet
		// conflicts with people it can never find.
		return nil, http.StatusForbidden, "SCIM provisions the whole tenant: use credentials without an app id"
	}
	return p, 0, ""
}

// baseURL is where this server's SCIM resources live, for meta.location:
// the request's host, behind https when a proxy says so.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: "/scim/v2"}).String()
}

// serviceProviderConfig answers what seatgraph supports (RFC 7643 §5).
func serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "", "only GET is allowed here")
		return
	}
	loc := baseURL(r) + "/ServiceProviderConfig"
	_ = json.NewEncoder(w).Encode(map[string]any{
		"schemas":        []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": MaxResults},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": false},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "Authorization: Bearer <API key or JWT> with the scim scope (seatgraph apikey create --scopes scim)",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": loc},
	})
}

// workEmailFilter is the filter form Entra ID sends to find a user by
// address, emails[type eq "work"].value eq "…", which RFC 7644's grammar
// (and so the filter parser) does not accept; rewriteFilter turns it into
// the equivalent emails[type eq "work" and value eq "…"].
var workEmailFilter = regexp.MustCompile(`(?i)\b([a-z][a-z0-9_-]*)\[([^\[\]]+)\]\.([a-z][a-z0-9_-]*)\s+(eq|ne|co|sw|ew|gt|ge|lt|le)\s+("(?:[^"\\]|\\.)*"|true|false|null|[0-9.]+)`)

func rewriteFilter(r *http.Request) {
	q := r.URL.Query()
	f := q.Get("filter")
	if f == "" || !workEmailFilter.MatchString(f) {
		return
	}
	q.Set("filter", workEmailFilter.ReplaceAllString(f, "$1[$2 and $3 $4 $5]"))
	u := *r.URL
	u.RawQuery = q.Encode()
	r.URL = &u
}

// principal is the authenticated caller (ServeHTTP guarantees one).
func principal(r *http.Request) *auth.Principal { return auth.FromContext(r.Context()) }

func tenant(r *http.Request) store.Tenant {
	p := principal(r)
	return store.Tenant{ID: p.TenantID, AppID: p.AppID}
}

// actor is who SCIM writes as: the credential's subject, source "scim".
func actor(r *http.Request) licensing.Actor {
	p := principal(r)
	return licensing.Actor{Tenant: tenant(r), Subject: p.Subject, Source: Source, SourceType: models.SourceAPI}
}

// read runs fn in a read transaction of the caller's tenant.
func read(r *http.Request, db *store.DB, fn func(store.Scope) error) error {
	sess := db.Session(r.Context(), tenant(r))
	err := sess.Read(r.Context(), fn)
	return errors.Join(err, sess.Close())
}

// meta is a record's SCIM meta: created, lastModified and its version, a
// weak ETag of updatedAt that If-Match may name.
func meta(rec *models.Record) scim.Meta {
	created, modified := rec.CreatedAt, rec.UpdatedAt
	return scim.Meta{Created: &created, LastModified: &modified, Version: version(rec.UpdatedAt)}
}

func version(t time.Time) string { return `W/"` + strconv.FormatInt(t.UnixMicro(), 10) + `"` }

// ifMatch reads the If-Match header: the version the caller last read
// (nil when it names none, or "*"). A version that is not one of ours can
// never match: it is read as the zero time.
func ifMatch(r *http.Request) *time.Time {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return nil
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	t := time.Time{}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		t = time.UnixMicro(n).UTC()
	}
	return &t
}

// project applies the attributes and excludedAttributes query parameters
// to a resource's attributes (id, schemas and meta are always returned).
func project(r *http.Request, attrs scim.ResourceAttributes) scim.ResourceAttributes {
	only, except := names(r, "attributes"), names(r, "excludedAttributes")
	for k := range attrs {
		k0 := strings.ToLower(k)
		if (len(only) > 0 && !only[k0]) || except[k0] {
			delete(attrs, k)
		}
	}
	return attrs
}

// names reads a comma-separated attribute list, top-level names only,
// lower-cased; "urn:…:User:userName" names userName.
func names(r *http.Request, param string) map[string]bool {
	out := map[string]bool{}
	for _, n := range strings.Split(r.URL.Query().Get(param), ",") {
		n = strings.TrimSpace(n)
		if i := strings.LastIndex(n, ":"); i >= 0 {
			n = n[i+1:]
		}
		if n, _, _ = strings.Cut(n, "."); n != "" {
			out[strings.ToLower(n)] = true
		}
	}
	return out
}

// excluded says whether the request leaves attribute name out.
func excluded(r *http.Request, name string) bool {
	return len(project(r, scim.ResourceAttributes{name: true})) == 0
}

// scimError turns what a service refused into a SCIM Error message;
// anything else is logged and answered 500.
func scimError(r *http.Request, err error) error {
	if err == nil {
		return nil
	}
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		return se
	}
	// Input checks report every problem at once (a problem.List); SCIM's
	// Error message has room for one: the first.
	all, ok := problem.All(err)
	if !ok || len(all) == 0 {
		logging.From(r.Context()).ErrorContext(r.Context(), "scim request failed", "error", err.Error())
		return scimerrors.ScimErrorInternal
	}
	p := all[0]
	switch p.Code {
	case problem.Conflict:
		return scimerrors.ScimError{Status: http.StatusConflict, ScimType: scimerrors.ScimTypeUniqueness, Detail: p.Message}
	case problem.NotFound:
		if p.Field == "input.id" {
			return scimerrors.ScimError{Status: http.StatusNotFound, Detail: "resource not found"}
		}
		return badValue(p.Message)
	case problem.StaleWrite:
		return scimerrors.ScimError{Status: http.StatusPreconditionFailed, Detail: "the resource changed since the version in If-Match; read it again"}
	case problem.Invalid:
		return badValue(strings.TrimPrefix(p.Field, "input.") + ": " + p.Message)
	}
	return scimerrors.ScimError{Status: http.StatusConflict, Detail: p.Message}
}

func badValue(detail string) scimerrors.ScimError {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue, Detail: detail}
}

func notFound(id string) scimerrors.ScimError {
	return scimerrors.ScimError{Status: http.StatusNotFound, Detail: fmt.Sprintf("resource %s not found", id)}
}

// writeError writes a SCIM Error message (RFC 7644 §3.12).
func writeError(w http.ResponseWriter, status int, scimType, detail string) {
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(scimerrors.ScimError{Status: status, ScimType: scimerrors.ScimType(scimType), Detail: detail})
}

// logger sends the library's log lines to the request's logger.
type logger struct{ ctx context.Context }

func (l logger) Error(args ...any) {
	logging.From(l.ctx).Log(l.ctx, slog.LevelError, "scim", args...)
}
