// Composition check: seatgraph's subgraph schema composes with other
// subgraphs under Apollo Federation 2 (@apollo/composition), with no error
// and no warning: procurement (which extends seatgraph's entities) and
// billing, a Relay-style subgraph that defines the value types seatgraph
// marks @shareable (PageInfo, UserError, Seats) itself. A change to
// schema.graphqls that breaks composition fails here, and so fails
// `make test`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import composition from '@apollo/composition';
import { parse } from 'graphql';
import { typeDefs as procurementTypeDefs } from './lib/procurement.mjs';
import { graphql, seatgraphURL } from './lib/harness.mjs';

const { composeServices, HintLevel } = composition; // CommonJS: no named export of the enum

const schemaFile = new URL('../schema.graphqls', import.meta.url);

// billing is a second Relay-style subgraph: its own connection uses a
// PageInfo, its mutations answer UserErrors, and it reports Seats of what
// it bills, each defined here as seatgraph defines it (every field: a
// value type has no key to fetch a missing field with). Without @shareable on both sides, composition refuses these
// with INVALID_FIELD_SHARING.
const billingTypeDefs = parse(`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

  type PageInfo @shareable {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  enum UserErrorCode { INVALID NOT_FOUND CONFLICT SEAT_LIMIT_REACHED LICENSE_EXPIRED ALREADY_REVOKED STALE_WRITE FORBIDDEN }

  type UserError @shareable {
    field: String
    message: String!
    code: UserErrorCode!
  }

  type Seats @shareable {
    total: Int
    used: Int!
    pending: Int!
    waitlisted: Int!
    available: Int
  }

  type Invoice @key(fields: "id") {
    id: ID!
    amountCents: Int!
    seats: Seats!
  }

  type InvoiceEdge { cursor: String! node: Invoice! }
  type InvoiceConnection { edges: [InvoiceEdge!]! nodes: [Invoice!]! pageInfo: PageInfo! totalCount: Int! }
  type PayInvoicePayload { invoice: Invoice userErrors: [UserError!]! }

  type Query { invoices(first: Int, after: String): InvoiceConnection! }
  type Mutation { payInvoice(id: ID!): PayInvoicePayload! }
`);

function compose(seatgraphSDL, procurement = procurementTypeDefs) {
  return composeServices([
    { name: 'seatgraph', url: 'http://seatgraph.invalid/query', typeDefs: parse(seatgraphSDL) },
    { name: 'procurement', url: 'http://procurement.invalid/', typeDefs: procurement },
    { name: 'billing', url: 'http://billing.invalid/', typeDefs: billingTypeDefs },
  ]);
}

// assertComposes fails on any composition error or warning hint, and
// checks that the supergraph merges the entities as the tests expect.
function assertComposes(t, result) {
  const errors = (result.errors ?? []).map(String);
  assert.deepEqual(errors, [], `composition failed:\n${errors.join('\n')}`);
  const warnings = result.hints.filter((h) => h.definition.level.value >= HintLevel.WARN);
  assert.deepEqual(warnings.map(String), [], 'composition warned');
  for (const h of result.hints) t.diagnostic(`hint: ${h}`);

  const api = result.schema.toAPISchema().toGraphQLJSSchema();
  const fields = (type) => Object.keys(api.getType(type).getFields());
  // License: seatgraph's fields plus procurement's costCenter.
  for (const f of ['id', 'name', 'seats', 'asset', 'assignments', 'costCenter']) {
    assert.ok(fields('License').includes(f), `License.${f} missing from the supergraph`);
  }
  // TechnologyAsset: owned by procurement, referenced by seatgraph.
  assert.deepEqual(fields('TechnologyAsset').sort(), ['costCenter', 'id', 'name', 'owner', 'vendor']);
  // Person, Group and Assignment come whole from seatgraph.
  for (const [type, f] of [['Person', 'email'], ['Group', 'members'], ['Assignment', 'status']]) {
    assert.ok(fields(type).includes(f), `${type}.${f} missing from the supergraph`);
  }
  // The shared value types are resolved by both seatgraph and billing.
  for (const type of ['PageInfo', 'UserError', 'Seats']) {
    const head = result.supergraphSdl.match(new RegExp(`type ${type}\\b[^{]*`))?.[0] ?? '';
    for (const graph of ['BILLING', 'SEATGRAPH']) {
      assert.ok(head.includes(`@join__type(graph: ${graph})`), `${type} is not shared with ${graph}: ${head}`);
    }
  }
  for (const entity of ['License', 'Assignment', 'Person', 'Group']) {
    assert.match(result.supergraphSdl, new RegExp(`type ${entity}\\b[^{]*@join__type\\(graph: SEATGRAPH, key: "id"\\)`));
  }
}

test('schema.graphqls composes with the procurement subgraph', (t) => {
  assertComposes(t, compose(readFileSync(schemaFile, 'utf8')));
});

test("the running server's _service.sdl composes with the procurement subgraph", async (t) => {
  // _service needs no credentials.
  const body = await graphql(`${seatgraphURL()}/query`, '{ _service { sdl } }');
  assert.deepEqual(body.errors ?? [], [], 'seatgraph did not answer _service');
  assertComposes(t, compose(body.data._service.sdl));
});

test('a subgraph that contradicts seatgraph fails composition', () => {
  // Proves the check has teeth: procurement redefining a seatgraph field
  // with another type must be refused.
  const clash = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type License @key(fields: "id") { id: ID! name: Int }
    type Query { cheapest: License }
  `);
  const result = compose(readFileSync(schemaFile, 'utf8'), clash);
  assert.ok(result.errors?.length > 0, 'composition accepted a License.name of another type');
});

test('the shared value types need @shareable: without it, composition refuses them', () => {
  // Proves the billing subgraph exercises @shareable: seatgraph's schema
  // with the directive taken off its value types must not compose.
  const unshared = readFileSync(schemaFile, 'utf8').replace(/^(type \w+) @shareable/gm, '$1');
  const result = compose(unshared);
  const codes = (result.errors ?? []).map((e) => e.extensions?.code);
  assert.ok(codes.includes('INVALID_FIELD_SHARING'), `composition without @shareable: ${codes.join(', ') || 'no error'}`);
});
