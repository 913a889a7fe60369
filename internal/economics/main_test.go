package economics_test

import (
	"math/big"
	"os"
	"testing"

	"seatgraph/internal/apitest"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// client is one tenant's caller of the test server.
type client struct {
	t   *testing.T
	srv *apitest.Server
	tok string
}

func newClient(t *testing.T, srv *apitest.Server, tenant string, scopes ...string) *client {
	return &client{t: t, srv: srv, tok: apitest.Token(t, tenant, scopes...)}
}

func (c *client) do(q string, vars map[string]any) map[string]any {
	c.t.Helper()
	return c.srv.MustDo(c.t, c.tok, q, vars)
}

// mutate runs a mutation that must succeed and returns its payload.
func (c *client) mutate(field, inputType, selection string, input map[string]any) map[string]any {
	c.t.Helper()
	d := c.do("mutation($in: "+inputType+"!) { "+field+"(input: $in) { "+selection+" userErrors { field message code } } }",
		map[string]any{"in": input})
	p := d[field].(map[string]any)
	if errs := p["userErrors"].([]any); len(errs) > 0 {
		c.t.Fatalf("%s: userErrors %v", field, errs)
	}
	return p
}

// userErrors runs a mutation that must fail and returns its userErrors.
func (c *client) userErrors(field, inputType string, input map[string]any) []any {
	c.t.Helper()
	d := c.do("mutation($in: "+inputType+"!) { "+field+"(input: $in) { userErrors { field message code } } }",
		map[string]any{"in": input})
	errs := d[field].(map[string]any)["userErrors"].([]any)
	if len(errs) == 0 {
		c.t.Fatalf("%s(%v): no userErrors", field, input)
	}
	return errs
}

func (c *client) license(in map[string]any) string {
	c.t.Helper()
	return c.mutate("createLicense", "CreateLicenseInput", "license { id }", in)["license"].(map[string]any)["id"].(string)
}

func (c *client) person(email string) string {
	c.t.Helper()
	return c.mutate("createPerson", "CreatePersonInput", "person { id }", map[string]any{"email": email, "name": email})["person"].(map[string]any)["id"].(string)
}

func (c *client) assign(in map[string]any) string {
	c.t.Helper()
	return c.mutate("assignLicense", "AssignLicenseInput", "assignment { id }", in)["assignment"].(map[string]any)["id"].(string)
}

// at walks a decoded JSON value by keys.
func at(v any, keys ...string) any {
	for _, k := range keys {
		v = v.(map[string]any)[k]
	}
	return v
}

func num(v any) int { return int(v.(float64)) }

// dec is an exact decimal for the tests' own arithmetic.
func dec(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	return r
}

// sameAmount says whether a decimal string equals r exactly.
func sameAmount(t *testing.T, got any, r *big.Rat) bool {
	t.Helper()
	s, ok := got.(string)
	return ok && dec(t, s).Cmp(r) == 0
}
