// Composition check: seatgraph's subgraph schema composes with a second
// subgraph under Apollo Federation 2 (@apollo/composition), with no error
// and no warning. A change to schema.graphqls that breaks composition
// fails here, and so fails `make test`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import composition from '@apollo/composition';
import { parse } from 'graphql';
import { typeDefs as procurementTypeDefs } from './lib/procurement.mjs';
import { graphql, seatgraphURL } from './lib/harness.mjs';

const { composeServices, HintLevel } = composition; // CommonJS: no named export of the enum

const schemaFile = new URL('../schema.graphqls', import.meta.url);

function compose(seatgraphSDL, procurement = procurementTypeDefs) {
  return composeServices([
    { name: 'seatgraph', url: 'http://seatgraph.invalid/query', typeDefs: parse(seatgraphSDL) },
    { name: 'procurement', url: 'http://procurement.invalid/', typeDefs: procurement },
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
