package scim

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"
	"github.com/uptrace/bun"

	"seatgraph/internal/directory"
	"seatgraph/internal/gid"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// users maps SCIM Users to People (SPEC §8): userName → username, the
// primary (or work) email → email, name.formatted (or given and family
// name, or displayName) → name, externalId → externalId, active → active
// (seat rule 9). Attributes seatgraph does not keep (phone numbers, titles,
// the enterprise extension, passwords…) are accepted and not stored.
type users struct{ db *store.DB }

// userResource is a person as a SCIM User. A person created without a
// username (through GraphQL) shows their email as userName.
func userResource(p *models.Person) scim.Resource {
	userName := p.Email
	if p.Username != nil {
		userName = *p.Username
	}
	attrs := scim.ResourceAttributes{
		"userName": userName,
		"emails":   []map[string]any{{"value": p.Email, "type": "work", "primary": true}},
		"active":   p.Active,
	}
	if p.Name != "" {
		attrs["name"] = map[string]any{"formatted": p.Name}
		attrs["displayName"] = p.Name
	}
	res := scim.Resource{ID: gid.Person.Format(p.ID), Attributes: attrs, Meta: meta(&p.Record)}
	if p.ExternalID != nil {
		res.ExternalID = optional.NewString(*p.ExternalID)
	}
	return res
}

// userFields are the values a User body gives a person.
type userFields struct {
	userName, email, name string
	externalID            *string
	active                *bool
}

func str(v any) (string, bool) {
	s, ok := v.(string)
	return strings.TrimSpace(s), ok
}

// fieldsOf reads a POST or PUT body (already checked against the User
// schema by the library).
func fieldsOf(attrs scim.ResourceAttributes) (userFields, error) {
	var f userFields
	f.userName, _ = str(attrs["userName"])
	if f.userName == "" {
		return f, badValue("userName is required")
	}
	f.email = pickEmail(attrs["emails"])
	if f.email == "" && strings.Contains(f.userName, "@") {
		f.email = f.userName
	}
	if f.email == "" {
		return f, badValue("a work email (emails) is required, or a userName that is an email address")
	}
	f.name = nameOf(attrs["name"], attrs["displayName"])
	if s, ok := str(attrs["externalId"]); ok && s != "" {
		f.externalID = &s
	}
	if b, ok := attrs["active"].(bool); ok {
		f.active = &b
	}
	return f, nil
}

// pickEmail is the primary address, else the work one, else the first.
func pickEmail(v any) string {
	list, _ := v.([]any)
	var work, first string
	for _, e := range list {
		m, _ := e.(map[string]any)
		val, _ := str(m["value"])
		if val == "" {
			continue
		}
		if p, _ := m["primary"].(bool); p {
			return val
		}
		if t, _ := str(m["type"]); strings.EqualFold(t, "work") && work == "" {
			work = val
		}
		if first == "" {
			first = val
		}
	}
	if work != "" {
		return work
	}
	return first
}

// nameOf is name.formatted, else given and family name, else displayName.
func nameOf(name, display any) string {
	m, _ := name.(map[string]any)
	if f, _ := str(m["formatted"]); f != "" {
		return f
	}
	given, _ := str(m["givenName"])
	family, _ := str(m["familyName"])
	if n := strings.TrimSpace(given + " " + family); n != "" {
		return n
	}
	d, _ := str(display)
	return d
}

func (u users) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	f, err := fieldsOf(attrs)
	if err != nil {
		return scim.Resource{}, err
	}
	res, err := directory.CreatePerson(r.Context(), u.db, actor(r), directory.CreatePersonInput{
		Email: f.email, Username: &f.userName, Name: &f.name, ExternalID: f.externalID, Active: f.active})
	if err != nil {
		return scim.Resource{}, scimError(r, err)
	}
	return userResource(res.Person), nil
}

// person reads a live person by SCIM id; another tenant's or a malformed
// id is not found.
func (u users) person(r *http.Request, id string) (*models.Person, error) {
	pid, err := gid.Person.Parse(id)
	if err != nil {
		return nil, notFound(id)
	}
	p := new(models.Person)
	err = read(r, u.db, func(s store.Scope) error {
		return s.Select(p).Where("p.id = ?", pid).Where("NOT p.is_deleted").Scan(r.Context())
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	return p, err
}

func (u users) Get(r *http.Request, id string) (scim.Resource, error) {
	p, err := u.person(r, id)
	if err != nil {
		return scim.Resource{}, scimError(r, err)
	}
	res := userResource(p)
	res.Attributes = project(r, res.Attributes)
	return res, nil
}

func (u users) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	var rows []*models.Person
	total, err := page(r, u.db, params, userColumns, func(s store.Scope) *bun.SelectQuery {
		return s.Select((*models.Person)(nil)).Where("NOT p.is_deleted")
	}, "p.created_at, p.id", &rows, nil)
	if err != nil {
		return scim.Page{}, scimError(r, err)
	}
	out := scim.Page{TotalResults: total, Resources: []scim.Resource{}}
	for _, p := range rows {
		res := userResource(p)
		res.Attributes = project(r, res.Attributes)
		out.Resources = append(out.Resources, res)
	}
	return out, nil
}

// Replace is PUT: the body is the whole user. An absent active leaves the
// person's state as it is (a PUT never reactivates by omission).
func (u users) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	if _, err := gid.Person.Parse(id); err != nil {
		return scim.Resource{}, notFound(id)
	}
	f, err := fieldsOf(attrs)
	if err != nil {
		return scim.Resource{}, err
	}
	res, err := directory.UpdatePerson(r.Context(), u.db, actor(r), directory.UpdatePersonInput{ID: id,
		ExpectedUpdatedAt: ifMatch(r), Email: &f.email, Username: &f.userName, Name: &f.name, ExternalID: f.externalID,
		Active: f.active})
	if err != nil {
		return scim.Resource{}, scimError(r, err)
	}
	return userResource(res.Person), nil
}

func (u users) Delete(r *http.Request, id string) error {
	if _, err := gid.Person.Parse(id); err != nil {
		return notFound(id)
	}
	_, err := directory.DeletePerson(r.Context(), u.db, actor(r), directory.DeleteInput{ID: id, ExpectedUpdatedAt: ifMatch(r)})
	return scimError(r, err)
}

// Patch applies the operations to the person in one write. Given or
// family name alone are combined with the other half of the name the
// person has (seatgraph keeps one full name); the write names the version
// read, so a change made meanwhile is never overwritten (it is retried).
func (u users) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	for range 3 {
		p, err := u.person(r, id)
		if err != nil {
			return scim.Resource{}, scimError(r, err)
		}
		var ch userPatch
		for _, op := range ops {
			if err := ch.apply(op); err != nil {
				return scim.Resource{}, err
			}
		}
		in := ch.input(p)
		in.ID, in.ExpectedUpdatedAt = id, ifMatch(r)
		if in.ExpectedUpdatedAt == nil {
			in.ExpectedUpdatedAt = &p.UpdatedAt
		}
		res, err := directory.UpdatePerson(r.Context(), u.db, actor(r), in)
		if pr, ok := problem.As(err); ok && pr.Code == problem.StaleWrite && ifMatch(r) == nil {
			continue
		}
		if err != nil {
			return scim.Resource{}, scimError(r, err)
		}
		return userResource(res.Person), nil
	}
	return scim.Resource{}, scimerrors.ScimError{Status: http.StatusConflict, Detail: "the user keeps changing; try again"}
}

// userPatch collects what PATCH operations set.
type userPatch struct {
	userName, email, formatted, given, family, display, externalID *string
	active                                                         *bool
}

func (c *userPatch) apply(op scim.PatchOperation) error {
	if op.Path == nil {
		// No path: the value is an object of attributes (Okta's
		// {"active": false}, Entra's {"displayName": …}), whose keys may
		// be paths themselves (Entra's compliant form,
		// "emails[type eq \"work\"].value", "name.givenName",
		// "urn:…:core:2.0:User:userName"): each is applied as an
		// operation with that path.
		m, ok := op.Value.(map[string]any)
		if !ok {
			return badValue("an operation without path takes an object of attributes")
		}
		for k, v := range m {
			path, err := filter.ParsePath([]byte(k))
			if err != nil {
				return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidPath,
					Detail: fmt.Sprintf("%q is not an attribute path", k)}
			}
			if err := c.apply(scim.PatchOperation{Op: op.Op, Path: &path, Value: v}); err != nil {
				return err
			}
		}
		return nil
	}
	if uri := op.Path.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, coreUser) {
		return nil // an extension seatgraph does not keep
	}
	attr := strings.ToLower(op.Path.AttributePath.AttributeName)
	sub := strings.ToLower(op.Path.AttributePath.SubAttributeName())
	if op.Path.SubAttribute != nil {
		sub = strings.ToLower(*op.Path.SubAttribute)
	}
	if !userPath(attr, sub) {
		return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidPath,
			Detail: fmt.Sprintf("%q is not an attribute of a User", op.Path.String())}
	}
	return c.set(op.Op, attr, sub, op.Value)
}

const coreUser = "urn:ietf:params:scim:schemas:core:2.0:User"

// userPath says whether attr (and sub, when not "") name an attribute of
// the core User schema or a common attribute (id, externalId, meta,
// schemas; RFC 7643 §3.1), kept by seatgraph or not.
func userPath(attr, sub string) bool {
	switch attr {
	case "id", "externalid", "schemas":
		return sub == ""
	case "meta":
		return true
	}
	a, ok := schema.CoreUserSchema().Attributes.ContainsAttribute(attr)
	if !ok {
		return false
	}
	if sub == "" {
		return true
	}
	_, ok = a.SubAttributes().ContainsAttribute(sub)
	return ok
}

// set records one attribute's new value. Removing what seatgraph needs
// (userName) is refused; removing an email or externalId keeps the one
// the person has, as a person always has an address.
func (c *userPatch) set(op, attr, sub string, v any) error {
	remove := op == scim.PatchOperationRemove
	s, _ := str(v)
	switch attr {
	case "username":
		if remove || s == "" {
			return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeMutability, Detail: "userName cannot be removed"}
		}
		c.userName = &s
	case "active":
		b, ok := v.(bool)
		if remove || !ok {
			return badValue("active takes true or false")
		}
		c.active = &b
	case "externalid":
		if !remove && s != "" {
			c.externalID = &s
		}
	case "emails":
		if remove {
			return nil
		}
		if sub == "" {
			if _, isList := v.([]any); !isList {
				v = []any{v}
			}
			s = pickEmail(v)
		}
		if s != "" {
			c.email = &s
		}
	case "displayname":
		c.display = &s
	case "name":
		if sub == "" {
			m, _ := v.(map[string]any)
			for k, x := range m {
				if err := c.set(op, "name", strings.ToLower(k), x); err != nil {
					return err
				}
			}
			if remove {
				empty := ""
				c.formatted = &empty
			}
			return nil
		}
		switch sub {
		case "formatted":
			c.formatted = &s
		case "givenname":
			c.given = &s
		case "familyname":
			c.family = &s
		}
	}
	return nil
}

// input is the person update the operations amount to.
func (c *userPatch) input(p *models.Person) directory.UpdatePersonInput {
	in := directory.UpdatePersonInput{Username: c.userName, Email: c.email, ExternalID: c.externalID, Active: c.active}
	switch {
	case c.formatted != nil:
		in.Name = c.formatted
	case c.given != nil || c.family != nil:
		given, family, _ := strings.Cut(p.Name, " ")
		if c.given != nil {
			given = *c.given
		}
		if c.family != nil {
			family = *c.family
		}
		n := strings.TrimSpace(given + " " + family)
		in.Name = &n
	case c.display != nil:
		in.Name = c.display
	}
	return in
}
