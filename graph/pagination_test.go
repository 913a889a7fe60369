package graph_test

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
)

// pageSize is deliberately not a divisor of the list sizes below, so the
// last page is a short one.
const pageSize = 7

// connectionQuery is a query over one connection with the four Relay
// arguments and an order, reading what pagination needs; path leads to
// the connection in the response.
type connectionQuery struct {
	query string
	path  []any
	vars  map[string]any
}

// rootConnection pages the root field conn (licenses, people, ...) whose
// order input type is orderType.
func rootConnection(conn, orderType string) connectionQuery {
	return connectionQuery{
		query: fmt.Sprintf(`query($first: Int, $after: String, $last: Int, $before: String, $order: %s) {
		  %s(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
		    totalCount
		    edges { cursor node { id } }
		    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		  } }`, orderType, conn),
		path: []any{conn},
	}
}

// page is one page of a connection as the client sees it.
type page struct {
	ids, cursors           []string
	total                  int
	hasNext, hasPrevious   bool
	startCursor, endCursor any
}

func (c connectionQuery) read(t *testing.T, srv *apitest.Server, tok string, args map[string]any) page {
	t.Helper()
	vars := map[string]any{}
	for k, v := range c.vars {
		vars[k] = v
	}
	for k, v := range args {
		vars[k] = v
	}
	data := srv.MustDo(t, tok, c.query, vars)
	conn := jsonAt(t, data, c.path...)
	var p page
	for _, e := range jsonList(t, conn, "edges") {
		p.ids = append(p.ids, jsonAt(t, e, "node", "id").(string))
		p.cursors = append(p.cursors, jsonAt(t, e, "cursor").(string))
	}
	p.total = jsonInt(t, conn, "totalCount")
	p.hasNext = jsonAt(t, conn, "pageInfo", "hasNextPage").(bool)
	p.hasPrevious = jsonAt(t, conn, "pageInfo", "hasPreviousPage").(bool)
	p.startCursor = jsonAt(t, conn, "pageInfo", "startCursor")
	p.endCursor = jsonAt(t, conn, "pageInfo", "endCursor")
	if n := len(p.cursors); n > 0 && (p.startCursor != p.cursors[0] || p.endCursor != p.cursors[n-1]) {
		t.Errorf("pageInfo cursors %v..%v are not the first and last edge's", p.startCursor, p.endCursor)
	}
	if len(p.ids) > pageSize {
		t.Errorf("page of %d, asked for %d", len(p.ids), pageSize)
	}
	return p
}

// walk pages through the whole connection, forward with first/after or
// backward with last/before, and returns the ids in list order and the
// totalCount every page reported.
func (c connectionQuery) walk(t *testing.T, srv *apitest.Server, tok string, order any, backward bool) ([]string, int) {
	t.Helper()
	var ids []string
	var cursor any
	total := -1
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("more than 100 pages")
		}
		args := map[string]any{"order": order, "first": pageSize, "after": cursor}
		if backward {
			args = map[string]any{"order": order, "last": pageSize, "before": cursor}
		}
		p := c.read(t, srv, tok, args)
		if total >= 0 && p.total != total {
			t.Errorf("totalCount changed from %d to %d between pages", total, p.total)
		}
		total = p.total
		more := p.hasNext
		if backward {
			more = p.hasPrevious
			ids = append(slices.Clone(p.ids), ids...)
			cursor = p.startCursor
			if i == 0 && p.hasNext {
				t.Error("the last page, read backward, says it has a next page")
			}
		} else {
			ids = append(ids, p.ids...)
			cursor = p.endCursor
			if i == 0 && p.hasPrevious {
				t.Error("the first page says it has a previous page")
			}
		}
		if more && len(p.ids) != pageSize {
			t.Errorf("page %d has %d rows but is not the last; want %d", i, len(p.ids), pageSize)
		}
		if !more {
			return ids, total
		}
	}
}

// checkWalk compares a walked list with the one SQL says it is.
func checkWalk(t *testing.T, got []string, total int, want []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("%s appears twice", id)
		}
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Errorf("%s is missing", id)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("walked\n%v\nwant\n%v", got, want)
	}
	if total != len(want) {
		t.Errorf("totalCount = %d, want %d", total, len(want))
	}
}

// sqlOrdered reads, as the superuser, the ids of a tenant's rows of table in
// the order orderBy (an SQL ORDER BY list), as TypeIDs of kind.
func sqlOrdered(t *testing.T, db *sql.DB, kind gid.Kind, table, where, orderBy string, args ...any) []string {
	t.Helper()
	var out []string
	for _, u := range sqlUUIDs(t, db, "SELECT id FROM "+table+" WHERE "+where+" ORDER BY "+orderBy, args...) {
		out = append(out, kind.Format(u))
	}
	return out
}

// orderCase is one order of a connection: the GraphQL order field and the
// SQL that sorts the rows the way the API documents it, per direction.
type orderCase struct {
	field     string
	asc, desc string
}

// TestPagination walks every connection in every order, forward and
// backward, pageSize rows at a time, and checks that the pages together are
// exactly the list SQL sorts the same way: nothing missing, nothing twice,
// in order, and as long as totalCount says. The rows have ties in every
// sort value and missing values where the value is nullable, so the id
// tie-breaker and the null placement are exercised.
func TestPagination(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("paging")
	f := apitest.NewFixture(t, srv.DB, tenant)
	people := f.People("person", 45)
	for i := range 25 {
		f.License(fmt.Sprintf("License %02d", i), 0)
	}
	l1, l2 := f.License("Seat A", 0), f.License("Seat B", 0)
	f.Assign(l1, people[:23]...)
	f.Assign(l2, people[10:]...)
	for i := range 12 {
		f.Group(fmt.Sprintf("Group %d", i%5), people[i:i+3]...)
	}
	big := f.Group("Big", people[5:30]...)

	db := apitest.DB(t).SQL(t)
	// Spread the sort values, with ties, over the rows: each column gets the
	// value of its expression of the row r, which r.n numbers. A SELECT
	// computes the values and the rows are updated with them, because Citus
	// refuses STABLE functions of columns (timestamptz arithmetic) in an UPDATE.
	numbered := func(table string, colExprs ...string) {
		var set, exprs []string
		for i := 0; i < len(colExprs); i += 2 {
			set = append(set, fmt.Sprintf("%s = $%d", colExprs[i], i/2+3))
			exprs = append(exprs, colExprs[i+1])
		}
		rows, err := db.Query(`SELECT r.id, `+strings.Join(exprs, ", ")+`
			FROM (SELECT *, row_number() OVER (ORDER BY id DESC) AS n FROM `+table+` WHERE tenant_id = $1) AS r`, tenant)
		if err != nil {
			t.Fatal(err)
		}
		var updates [][]any
		for rows.Next() {
			values := make([]any, 1+len(exprs))
			ptrs := make([]any, len(values))
			for i := range values {
				ptrs[i] = &values[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			updates = append(updates, append([]any{tenant}, values...))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		for _, args := range updates {
			sqlExec(t, db, `UPDATE `+table+` SET `+strings.Join(set, ", ")+` WHERE tenant_id = $1 AND id = $2`, args...)
		}
	}
	numbered("people",
		"created_at", "r.created_at - make_interval(mins => (r.n % 5)::int)",
		"name", "CASE WHEN r.n % 4 = 0 THEN 'Same Name' ELSE r.name END",
		"email", "CASE WHEN r.n % 3 = 0 THEN upper(r.email) ELSE r.email END")
	numbered("licenses",
		"created_at", "r.created_at - make_interval(mins => (r.n % 4)::int)",
		"name", "CASE WHEN r.n % 5 = 0 THEN 'Same License' ELSE r.name END",
		"expires_at", "CASE WHEN r.n % 3 = 0 THEN NULL ELSE now() + make_interval(days => (r.n % 4)::int + 1) END")
	numbered("groups", "created_at", "r.created_at - make_interval(mins => (r.n % 3)::int)")
	numbered("assignments",
		"created_at", "r.created_at - make_interval(mins => (r.n % 7)::int)",
		"updated_at", "r.updated_at - make_interval(secs => (r.n % 4) * 1.000123)",
		"assigned_at", "r.assigned_at - make_interval(days => (r.n % 6)::int)",
		"expires_at", "CASE WHEN r.n % 4 = 0 THEN NULL ELSE now() + make_interval(days => (r.n % 5)::int + 1) END",
		"last_used_at", "CASE WHEN r.n % 3 = 0 THEN NULL ELSE now() - make_interval(hours => (r.n % 4)::int) END")

	tok := apitest.Token(t, tenant)
	live := "tenant_id = $1 AND NOT is_deleted"
	lists := []struct {
		conn, orderType string
		kind            gid.Kind
		table           string
		defaultOrder    string
		orders          []orderCase
	}{
		{"people", "PersonOrder", gid.Person, "people", "NAME", []orderCase{
			{"NAME", "name, id", "name DESC, id DESC"},
			{"EMAIL", "lower(email), id", "lower(email) DESC, id DESC"},
			{"CREATED", "created_at, id", "created_at DESC, id DESC"},
		}},
		{"licenses", "LicenseOrder", gid.License, "licenses", "NAME", []orderCase{
			{"NAME", "name, id", "name DESC, id DESC"},
			{"CREATED", "created_at, id", "created_at DESC, id DESC"},
			// No end date counts as the latest.
			{"EXPIRES", "expires_at ASC NULLS LAST, id", "expires_at DESC NULLS FIRST, id DESC"},
		}},
		{"groups", "GroupOrder", gid.Group, "groups", "NAME", []orderCase{
			{"NAME", "name, id", "name DESC, id DESC"},
			{"CREATED", "created_at, id", "created_at DESC, id DESC"},
		}},
		{"assignments", "AssignmentOrder", gid.Assignment, "assignments", "CREATED", []orderCase{
			{"CREATED", "created_at, id", "created_at DESC, id DESC"},
			{"UPDATED", "updated_at, id", "updated_at DESC, id DESC"},
			{"ASSIGNED", "assigned_at, id", "assigned_at DESC, id DESC"},
			// Grants without an end sort as the latest.
			{"EXPIRES", "expires_at ASC NULLS LAST, id", "expires_at DESC NULLS FIRST, id DESC"},
			// Seats never used sort as the earliest.
			{"LAST_USED", "last_used_at ASC NULLS FIRST, id", "last_used_at DESC NULLS LAST, id DESC"},
		}},
	}
	for _, l := range lists {
		c := rootConnection(l.conn, l.orderType)
		for _, o := range l.orders {
			for _, dir := range []string{"ASC", "DESC"} {
				orderBy := o.asc
				if dir == "DESC" {
					orderBy = o.desc
				}
				want := sqlOrdered(t, db, l.kind, l.table, live, orderBy, tenant)
				order := map[string]any{"field": o.field, "direction": dir}
				t.Run(l.conn+"/"+o.field+"/"+dir+"/forward", func(t *testing.T) {
					got, total := c.walk(t, srv, tok, order, false)
					checkWalk(t, got, total, want)
				})
				t.Run(l.conn+"/"+o.field+"/"+dir+"/backward", func(t *testing.T) {
					got, total := c.walk(t, srv, tok, order, true)
					checkWalk(t, got, total, want)
				})
				if o.field == l.defaultOrder && dir == "ASC" {
					t.Run(l.conn+"/default order", func(t *testing.T) {
						got, total := c.walk(t, srv, tok, nil, false)
						checkWalk(t, got, total, want)
					})
				}
			}
		}
	}

	// Nested connections page per parent, in one statement for all
	// parents; walk one parent's.
	t.Run("License.assignments/LAST_USED/DESC", func(t *testing.T) {
		c := connectionQuery{query: `query($l: ID!, $first: Int, $after: String, $last: Int, $before: String, $order: AssignmentOrder) {
		  license(id: $l) { assignments(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
		    totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`,
			path: []any{"license", "assignments"}, vars: map[string]any{"l": gid.License.Format(l2.ID)}}
		want := sqlOrdered(t, db, gid.Assignment, "assignments", live+" AND license_id = $2",
			"last_used_at DESC NULLS LAST, id DESC", tenant, l2.ID)
		order := map[string]any{"field": "LAST_USED", "direction": "DESC"}
		for _, backward := range []bool{false, true} {
			got, total := c.walk(t, srv, tok, order, backward)
			checkWalk(t, got, total, want)
		}
	})
	t.Run("Group.members/EMAIL", func(t *testing.T) {
		g := big.ID
		c := connectionQuery{query: `query($g: ID!, $first: Int, $after: String, $last: Int, $before: String, $order: PersonOrder) {
		  group(id: $g) { members(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
		    totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`,
			path: []any{"group", "members"}, vars: map[string]any{"g": gid.Group.Format(g)}}
		want := sqlOrdered(t, db, gid.Person, "people", live+" AND id IN (SELECT person_id FROM group_members WHERE tenant_id = $1 AND group_id = $2)",
			"lower(email), id", tenant, g)
		for _, backward := range []bool{false, true} {
			got, total := c.walk(t, srv, tok, map[string]any{"field": "EMAIL"}, backward)
			checkWalk(t, got, total, want)
		}
	})

	t.Run("bad arguments", func(t *testing.T) {
		byName := map[string]any{"field": "NAME"}
		first := rootConnection("people", "PersonOrder").read(t, srv, tok, map[string]any{"first": pageSize, "order": byName})
		if !first.hasNext {
			t.Fatal("need a second page")
		}
		garbage := base64.RawURLEncoding.EncodeToString([]byte(`{"o":"NAME.asc","i":"not a uuid"}`))
		const q = `query($first: Int, $after: String, $last: Int, $before: String, $order: PersonOrder) {
		  people(first: $first, after: $after, last: $last, before: $before, orderBy: $order) { nodes { id } } }`
		for name, vars := range map[string]map[string]any{
			"first 101":                  {"first": 101},
			"first -1":                   {"first": -1},
			"last 101":                   {"last": 101},
			"last -1":                    {"last": -1},
			"first and last":             {"first": 5, "last": 5},
			"garbage cursor":             {"first": 5, "after": "garbage!"},
			"garbage before":             {"last": 5, "before": "zzzz"},
			"well-formed foreign cursor": {"first": 5, "after": garbage},
			"cursor of another field":    {"first": 5, "after": first.endCursor, "order": map[string]any{"field": "EMAIL"}},
			"cursor of another direction": {"first": 5, "after": first.endCursor,
				"order": map[string]any{"field": "NAME", "direction": "DESC"}},
			"cursor of another direction, before": {"last": 5, "before": first.endCursor,
				"order": map[string]any{"field": "NAME", "direction": "DESC"}},
			"NUL inside the cursor's value": {"first": 5, "after": forged(t, first.endCursor, "", "Ada\x00Lovelace")},
			"markup as the cursor's order":  {"first": 5, "after": forged(t, first.endCursor, "<script>alert(1)</script>", "")},
		} {
			t.Run(name, func(t *testing.T) {
				r := srv.Do(t, tok, q, vars)
				if !slices.Contains(r.Codes(), "BAD_USER_INPUT") {
					t.Errorf("got %s, want a BAD_USER_INPUT error", r.Raw)
				}
				if r.Data != nil && r.Data["people"] != nil {
					t.Errorf("people answered despite the error: %v", r.Data["people"])
				}
				if len(r.Errors) > 0 && strings.TrimSpace(r.Errors[0].Message) == "" {
					t.Error("the error has no message")
				}
				// Messages name the problem and never echo what was sent.
				if strings.Contains(string(r.Raw), "script") || strings.Contains(string(r.Raw), "Lovelace") {
					t.Errorf("the error echoes the forged cursor: %s", r.Raw)
				}
			})
		}
		// Nested connections check their arguments the same way.
		r := srv.Do(t, tok, `query($l: ID!) { license(id: $l) { assignments(first: 101) { nodes { id } } } }`,
			map[string]any{"l": gid.License.Format(l1.ID)})
		if !slices.Contains(r.Codes(), "BAD_USER_INPUT") {
			t.Errorf("License.assignments(first: 101): got %s, want BAD_USER_INPUT", r.Raw)
		}
		// 100 is the most a page may hold, and it is allowed.
		data := srv.MustDo(t, tok, `{ people(first: 100) { nodes { id } } }`, nil)
		if n := len(jsonList(t, data, "people", "nodes")); n != 46 {
			t.Errorf("people(first: 100) returned %d people, want all 46", n)
		}
		// Without first or last a page holds 20.
		data = srv.MustDo(t, tok, `{ people { nodes { id } pageInfo { hasNextPage } } }`, nil)
		if n := len(jsonList(t, data, "people", "nodes")); n != 20 || !jsonAt(t, data, "people", "pageInfo", "hasNextPage").(bool) {
			t.Errorf("people without first: %d people, want the default 20 and a next page", n)
		}
	})
}

// forged decodes cursor c (a JSON object in base64), replaces its order
// and value (when given) and encodes it again, as an attacker would.
func forged(t *testing.T, c any, order, value string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(c.(string))
	if err != nil {
		t.Fatal(err)
	}
	var k map[string]any
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	if order != "" {
		k["o"] = order
	}
	if value != "" {
		k["v"] = value
	}
	b, _ = json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}
