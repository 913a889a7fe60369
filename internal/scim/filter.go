package scim

import (
	"fmt"
	"net/http"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
	"github.com/uptrace/bun"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"

	"seatgraph/internal/gid"
	"seatgraph/internal/store"
)

// column is how one filterable attribute reads in SQL: cond builds the
// condition for "attribute op value" with op eq or ne's positive form.
type column struct {
	// expr is the column expression; text columns compare lower-cased
	// unless caseExact (RFC 7643: userName, emails and displayName are
	// case-insensitive, externalId and id are exact).
	expr      string
	caseExact bool
	// lowered, when set, is a column that keeps lower(expr) (generated):
	// compared instead of lower(expr), which is not leakproof, so that
	// under forced row-level security its index serves the look-up
	// rather than a filter over every row of the tenant.
	lowered string
	boolean bool
	// parse turns the compared value into the column's value (ids).
	parse func(string) (any, bool)
	// sub, when set, is a condition with one placeholder (members).
	sub string
}

// columns maps a resource's filterable attributes ("emails.value" for a
// sub-attribute) to their SQL.
type columns map[string]column

var userColumns = columns{
	"id": {expr: "p.id", caseExact: true, parse: parseID(gid.Person)},
	// userName is the person's username only (compared as the generated
	// username_normalized, by index): a person without one (made
	// through GraphQL) shows their email as userName but is found by
	// emails, not userName.
	"username":       {expr: "p.username", lowered: "p.username_normalized"},
	"externalid":     {expr: "p.external_id", caseExact: true},
	"emails":         {expr: "p.email", lowered: "p.email_normalized"},
	"emails.value":   {expr: "p.email", lowered: "p.email_normalized"},
	"emails.type":    {expr: "'work'"},
	"displayname":    {expr: "p.name"},
	"name.formatted": {expr: "p.name"},
	"active":         {expr: "p.active", boolean: true},
}

var groupColumns = columns{
	"id":            {expr: "g.id", caseExact: true, parse: parseID(gid.Group)},
	"displayname":   {expr: "g.name"},
	"externalid":    {expr: "g.external_id", caseExact: true},
	"members":       {sub: memberOf, parse: parseID(gid.Person)},
	"members.value": {sub: memberOf, parse: parseID(gid.Person)},
}

// memberOf's placeholders are the tenant and the person.
const memberOf = "g.id IN (SELECT gm.group_id FROM group_members AS gm WHERE gm.tenant_id = ? AND gm.person_id = ?)"

func parseID(kind gid.Kind) func(string) (any, bool) {
	return func(s string) (any, bool) {
		u, err := kind.Parse(s)
		return u, err == nil
	}
}

// where adds the list request's filter to q. A filter seatgraph cannot
// answer (an attribute it does not keep, an operator other than eq, ne
// and pr) is refused with invalidFilter rather than answered wrongly.
func (cs columns) where(r *http.Request, q *bun.SelectQuery, params scim.ListRequestParams) (*bun.SelectQuery, error) {
	if params.FilterValidator == nil {
		return q, nil
	}
	b := sqlBuilder{tenant: principal(r).TenantID}
	if err := b.expr(cs, "", params.FilterValidator.GetFilter()); err != nil {
		return nil, scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidFilter, Detail: err.Error()}
	}
	return q.Where(b.sql.String(), b.args...), nil
}

type sqlBuilder struct {
	tenant string
	sql    strings.Builder
	args   []any
}

func (b *sqlBuilder) expr(cs columns, prefix string, e filter.Expression) error {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		b.sql.WriteString("(")
		if err := b.expr(cs, prefix, e.Left); err != nil {
			return err
		}
		b.sql.WriteString(map[filter.LogicalOperator]string{filter.AND: " AND ", filter.OR: " OR "}[e.Operator])
		if err := b.expr(cs, prefix, e.Right); err != nil {
			return err
		}
		b.sql.WriteString(")")
	case *filter.NotExpression:
		b.sql.WriteString("NOT coalesce(")
		if err := b.expr(cs, prefix, e.Expression); err != nil {
			return err
		}
		b.sql.WriteString(", false)")
	case *filter.ValuePath:
		// emails[type eq "work" and value eq "…"]: the inner filter is
		// about the sub-attributes of emails.
		return b.expr(cs, strings.ToLower(e.AttributePath.AttributeName)+".", e.ValueFilter)
	case *filter.AttributeExpression:
		return b.compare(cs, prefix, e)
	default:
		return fmt.Errorf("unsupported filter %v", e)
	}
	return nil
}

func (b *sqlBuilder) compare(cs columns, prefix string, e *filter.AttributeExpression) error {
	name := prefix + strings.ToLower(e.AttributePath.AttributeName)
	if e.AttributePath.SubAttribute != nil {
		name += "." + strings.ToLower(*e.AttributePath.SubAttribute)
	}
	c, ok := cs[name]
	if !ok {
		return fmt.Errorf("seatgraph cannot filter on %s", e.AttributePath)
	}
	if e.Operator == filter.PR {
		if c.sub != "" {
			return fmt.Errorf("seatgraph cannot filter on %s pr", e.AttributePath)
		}
		b.sql.WriteString("(" + c.expr + " IS NOT NULL)")
		return nil
	}
	if e.Operator != filter.EQ && e.Operator != filter.NE {
		return fmt.Errorf("operator %s is not supported: use eq, ne, pr, and, or, not", e.Operator)
	}
	neg := ""
	if e.Operator == filter.NE {
		neg = "NOT "
	}
	if c.boolean {
		v, ok := e.CompareValue.(bool)
		if !ok {
			return fmt.Errorf("%s compares with true or false", e.AttributePath)
		}
		b.sql.WriteString("(" + neg + "coalesce(" + c.expr + " = ?, false))")
		b.args = append(b.args, v)
		return nil
	}
	s, ok := e.CompareValue.(string)
	if !ok {
		return fmt.Errorf("%s compares with a string", e.AttributePath)
	}
	var arg any = s
	if c.parse != nil {
		if arg, ok = c.parse(s); !ok {
			// An id of the wrong shape names nothing.
			b.sql.WriteString("(" + neg + "false)")
			return nil
		}
	}
	switch {
	case c.sub != "":
		b.sql.WriteString("(" + neg + c.sub + ")")
		b.args = append(b.args, b.tenant)
	case neg == "" && c.caseExact:
		// Plain comparisons (NULL reads as false in WHERE, and NOT is
		// wrapped in coalesce above) so that indexes on the expression
		// serve them.
		b.sql.WriteString("(" + c.expr + " = ?)")
	case neg == "" && c.lowered != "":
		b.sql.WriteString("(" + c.lowered + " = lower(?))")
	case neg == "":
		b.sql.WriteString("(lower(" + c.expr + ") = lower(?))")
	case c.caseExact:
		b.sql.WriteString("(" + neg + "coalesce(" + c.expr + " = ?, false))")
	default:
		b.sql.WriteString("(" + neg + "coalesce(lower(" + c.expr + ") = lower(?), false))")
	}
	b.args = append(b.args, arg)
	return nil
}

// page reads one page of a list: its total and the rows from startIndex
// (1-based), count of them, in creation order. SCIM pages by index
// (RFC 7644 §3.4.2.4), so this list uses OFFSET; it is an identity
// provider's sync, not a hot path, and count is at most MaxResults.
// then, when not nil, runs in the same read transaction after the page is
// read (to read what the page's rows need, such as group members).
func page(r *http.Request, db *store.DB, params scim.ListRequestParams, cs columns, base func(store.Scope) *bun.SelectQuery,
	order string, dest any, then func(store.Scope) error) (int, error) {
	total := 0
	err := read(r, db, func(s store.Scope) error {
		q, err := cs.where(r, base(s), params)
		if err != nil {
			return err
		}
		n, err := q.Count(r.Context())
		if total = int(n); err != nil || params.Count == 0 {
			return err
		}
		err = q.OrderExpr(order).Offset(int64(params.StartIndex-1)).Limit(int64(params.Count)).Scan(r.Context(), dest)
		if err != nil || then == nil {
			return err
		}
		return then(s)
	})
	return total, err
}
