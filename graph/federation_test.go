package graph_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
)

const entitiesQuery = `query Entities($reps: [_Any!]!) {
  _entities(representations: $reps) {
    __typename
    ... on License { id name }
    ... on Assignment { id licenseName }
    ... on Person { id email }
    ... on Group { id name }
  }
}`

// sessionStatements are the statements every authenticated request pays
// once, whatever it reads: BEGIN, the tenant setting and COMMIT.
const sessionStatements = 3

// statementsPerEntityType is the bound this test proves: an _entities call
// costs one SELECT per entity type it names, however many representations
// of that type it carries.
const statementsPerEntityType = 1

// entityKinds maps each entity type to the kind of its TypeIDs.
var entityKinds = map[string]gid.Kind{
	"License": gid.License, "Assignment": gid.Assignment, "Person": gid.Person, "Group": gid.Group,
}

// entityTypes lists the entity types in a fixed order.
var entityTypes = []string{"License", "Assignment", "Person", "Group"}

// federationWorld is a tenant with 100 records of every entity type, and
// a second tenant with a few records of its own.
type federationWorld struct {
	srv    *apitest.Server
	tenant string
	token  string
	ids    map[string][]string // entity type -> the tenant's ids
	other  map[string][]string // entity type -> the other tenant's ids
}

func newFederationWorld(t *testing.T) *federationWorld {
	t.Helper()
	srv := apitest.NewServer(t)
	w := &federationWorld{srv: srv, ids: map[string][]string{}, other: map[string][]string{}}

	tenant := apitest.Tenant("fed")
	f := apitest.NewFixture(t, srv.DB, tenant)
	people := f.People("holder", 99) // the fixture's admin is the 100th person
	lic := f.License("Seat license", 0)
	for _, a := range f.Assign(lic, people...) {
		w.ids["Assignment"] = append(w.ids["Assignment"], gid.Assignment.Format(a.ID))
	}
	w.ids["Assignment"] = append(w.ids["Assignment"], gid.Assignment.Format(f.Assign(lic, f.Admin)[0].ID))
	w.ids["License"] = append(w.ids["License"], gid.License.Format(lic.ID))
	for i := range 99 {
		w.ids["License"] = append(w.ids["License"], gid.License.Format(f.License(fmt.Sprintf("License %02d", i), 0).ID))
	}
	w.ids["Person"] = append(w.ids["Person"], gid.Person.Format(f.Admin.ID))
	for _, p := range people {
		w.ids["Person"] = append(w.ids["Person"], gid.Person.Format(p.ID))
	}
	for i := range 100 {
		w.ids["Group"] = append(w.ids["Group"], gid.Group.Format(f.Group(fmt.Sprintf("Group %02d", i)).ID))
	}
	w.tenant, w.token = tenant, apitest.Token(t, tenant)

	o := apitest.NewFixture(t, srv.DB, apitest.Tenant("fed-other"))
	ol := o.License("Other tenant's license", 0)
	w.other["License"] = []string{gid.License.Format(ol.ID)}
	w.other["Assignment"] = []string{gid.Assignment.Format(o.Assign(ol, o.Admin)[0].ID)}
	w.other["Person"] = []string{gid.Person.Format(o.Admin.ID)}
	w.other["Group"] = []string{gid.Group.Format(o.Group("Other tenant's group").ID)}

	srv.MustDo(t, w.token, `{ viewer { tenantId } }`, nil) // warm the pool and the query cache
	return w
}

// representation is one entry of _entities' representations with the id
// the answer must carry at its position ("" when the answer must be null).
type representation struct {
	typename, id, want string
}

// batch builds the representations of typename in shuffled order: every
// one of the tenant's ids, an id that names nothing, and another tenant's
// id, the last two at positions inside the list.
func (w *federationWorld) batch(typename string, rnd *rand.Rand) []representation {
	var reps []representation
	for _, id := range w.ids[typename] {
		reps = append(reps, representation{typename, id, id})
	}
	rnd.Shuffle(len(reps), func(i, j int) { reps[i], reps[j] = reps[j], reps[i] })
	unknown := representation{typename, entityKinds[typename].Format(gid.New()), ""}
	foreign := representation{typename, w.other[typename][0], ""}
	reps = slices.Insert(reps, 17, unknown)
	reps = slices.Insert(reps, 61, foreign)
	return reps
}

// resolve sends reps to _entities with token and checks that every answer
// is the wanted entity (or null) at the position of its representation.
// It returns the statements the call cost and the response.
func (w *federationWorld) resolve(t *testing.T, token string, reps []representation) (int64, *apitest.Response) {
	t.Helper()
	vars := make([]map[string]any, len(reps))
	for i, r := range reps {
		vars[i] = map[string]any{"__typename": r.typename, "id": r.id}
	}
	before := w.srv.DB.Statements()
	resp := w.srv.Do(t, token, entitiesQuery, map[string]any{"reps": vars})
	n := w.srv.DB.Statements() - before
	if resp.Data == nil {
		t.Fatalf("no data (%d): %s", resp.Status, resp.Raw)
	}
	got, _ := resp.Data["_entities"].([]any)
	if len(got) != len(reps) {
		t.Fatalf("got %d entities for %d representations: %s", len(got), len(reps), resp.Raw)
	}
	for i, r := range reps {
		e, _ := got[i].(map[string]any)
		switch {
		case r.want == "" && e != nil:
			t.Errorf("entity %d (%s %s): got %v, want null", i, r.typename, r.id, e)
		case r.want != "" && e == nil:
			t.Errorf("entity %d (%s %s): got null", i, r.typename, r.id)
		case r.want != "" && (e["id"] != r.want || e["__typename"] != r.typename):
			t.Errorf("entity %d: got %v %v, want %s %s", i, e["__typename"], e["id"], r.typename, r.want)
		}
	}
	return n, resp
}

// TestEntitiesBatched proves that _entities resolves 100 representations
// of a type in one SQL statement, in the order of the representations,
// with null for ids that name nothing or another tenant's records.
func TestEntitiesBatched(t *testing.T) {
	w := newFederationWorld(t)
	rnd := rand.New(rand.NewPCG(5, 5))

	for _, typename := range entityTypes {
		t.Run(typename, func(t *testing.T) {
			reps := w.batch(typename, rnd)
			n, resp := w.resolve(t, w.token, reps)
			if len(resp.Errors) > 0 {
				t.Fatalf("errors: %s", resp.Raw)
			}
			t.Logf("_entities with %d %s representations: %d SQL statements (%d beyond BEGIN, tenant setting, COMMIT)",
				len(reps), typename, n, n-sessionStatements)
			if n-sessionStatements > statementsPerEntityType {
				t.Errorf("%d statements beyond the session's %d; bound is %d per entity type",
					n-sessionStatements, sessionStatements, statementsPerEntityType)
			}
		})
	}

	t.Run("all types in one call", func(t *testing.T) {
		var reps []representation
		batches := make([][]representation, len(entityTypes))
		for i, typename := range entityTypes {
			batches[i] = w.batch(typename, rnd)
		}
		// Interleave the types, so that each type's answers are spread
		// over the whole list.
		for i := 0; len(reps) < len(batches)*len(batches[0]); i++ {
			reps = append(reps, batches[i%len(batches)][i/len(batches)])
		}
		n, resp := w.resolve(t, w.token, reps)
		if len(resp.Errors) > 0 {
			t.Fatalf("errors: %s", resp.Raw)
		}
		t.Logf("_entities with %d representations of %d types: %d SQL statements (%d beyond the session's)",
			len(reps), len(entityTypes), n, n-sessionStatements)
		if bound := int64(len(entityTypes) * statementsPerEntityType); n-sessionStatements > bound {
			t.Errorf("%d statements beyond the session's %d; bound is %d", n-sessionStatements, sessionStatements, bound)
		}
	})
}

// TestEntitiesOtherTenant proves that a caller sees none of another
// tenant's entities through _entities, however it asks.
func TestEntitiesOtherTenant(t *testing.T) {
	w := newFederationWorld(t)
	stranger := apitest.Token(t, apitest.Tenant("fed-stranger"))
	var reps []representation
	for _, typename := range entityTypes {
		for _, id := range w.ids[typename][:10] {
			reps = append(reps, representation{typename, id, ""})
		}
	}
	_, resp := w.resolve(t, stranger, reps)
	if len(resp.Errors) > 0 {
		t.Fatalf("errors: %s", resp.Raw)
	}
}

// TestEntitiesScopes proves that _entities checks the scope each entity
// type needs: the types the caller may read resolve, the others are null
// with a FORBIDDEN error.
func TestEntitiesScopes(t *testing.T) {
	w := newFederationWorld(t)
	cases := []struct {
		scope     string
		readable  []string
		forbidden []string
	}{
		{auth.ScopeLicensesRead, []string{"License", "Assignment"}, []string{"Person", "Group"}},
		{auth.ScopeDirectoryRead, []string{"Person", "Group"}, []string{"License", "Assignment"}},
	}
	for _, c := range cases {
		t.Run(c.scope, func(t *testing.T) {
			var reps []representation
			for _, typename := range c.readable {
				reps = append(reps, representation{typename, w.ids[typename][0], w.ids[typename][0]})
			}
			for _, typename := range c.forbidden {
				reps = append(reps, representation{typename, w.ids[typename][0], ""})
			}
			_, resp := w.resolve(t, apitest.Token(t, w.tenant, c.scope), reps)
			codes := resp.Codes()
			if len(codes) != len(c.forbidden) {
				t.Fatalf("got errors %v, want one FORBIDDEN per forbidden type: %s", codes, resp.Raw)
			}
			for _, code := range codes {
				if code != "FORBIDDEN" {
					t.Errorf("got code %q, want FORBIDDEN: %s", code, resp.Raw)
				}
			}
		})
	}

	t.Run("no credentials", func(t *testing.T) {
		resp := w.srv.Do(t, "", entitiesQuery, map[string]any{
			"reps": []map[string]any{{"__typename": "License", "id": w.ids["License"][0]}},
		})
		if codes := resp.Codes(); len(codes) != 1 || codes[0] != "UNAUTHENTICATED" {
			t.Fatalf("got codes %v, want UNAUTHENTICATED: %s", codes, resp.Raw)
		}
		if e, _ := resp.Data["_entities"].([]any); len(e) > 0 && e[0] != nil {
			t.Fatalf("an unauthenticated call resolved an entity: %s", resp.Raw)
		}
	})
}
