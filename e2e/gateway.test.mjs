// End-to-end: seatgraph behind a real Apollo gateway, composed with the
// procurement subgraph. Queries cross the two subgraphs in both
// directions with the caller's credentials forwarded to seatgraph; a
// caller of another tenant sees none of the first tenant's entities; and a
// list of 100 references that procurement returns costs seatgraph a
// bounded number of SQL statements.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { emptyCatalogue, startProcurement } from './lib/procurement.mjs';
import { codes, graphql, mustQuery, seatgraph, seatgraphURL, startGateway, statements, tenants, token } from './lib/harness.mjs';

// sessionStatements are what every authenticated seatgraph request pays
// once: BEGIN, the tenant setting and COMMIT.
const sessionStatements = 3;

// The purchase-order query reaches two seatgraph entity types (License and
// Person). The gateway may ask for them in one _entities request or in one
// request each; either way seatgraph must spend one SELECT per type, so
// the bound is 2 requests x 3 session statements + 2 SELECTs = 8,
// whatever the number of references.
const entityTypes = 2;
const maxSeatgraphRequests = 2;
const statementBound = maxSeatgraphRequests * sessionStatements + entityTypes;

describe('seatgraph behind an Apollo gateway', () => {
  const catalogue = emptyCatalogue();
  let procurement, gateway, tok, acme, globex;

  const ask = (query, t = tok.a) => graphql(gateway.url, query, { token: t });
  const must = (query, t = tok.a) => mustQuery(gateway.url, query, { token: t });

  before(async () => {
    const { a, b } = tenants();
    tok = { a: token(a), b: token(b), licensesOnly: token(a, ['licenses:read']) };
    const read = `{
      licenses(first: 100) { nodes { id name vendor assetId } }
      people(first: 100) { nodes { id email name } }
    }`;
    acme = await seatgraph(read, { token: tok.a });
    globex = await seatgraph(read, { token: tok.b });
    const licenses = acme.licenses.nodes;
    const people = acme.people.nodes;
    assert.ok(licenses.length >= 10 && licenses.every((l) => l.assetId), 'run.sh gives every license of tenant A an asset');
    assert.equal(people.length, 100);

    // procurement's data, keyed by tenant A's ids: an asset per license,
    // owned by a person; a cost center per license; 100 purchase orders,
    // each by another person.
    licenses.forEach((l, i) => {
      catalogue.costCenters.set(l.id, `CC-${4100 + i}`);
      catalogue.assets.set(l.assetId, {
        id: l.assetId, name: `${l.name} rollout`, vendor: l.vendor, costCenter: `CC-${7100 + i}`, ownerId: people[i].id,
      });
    });
    people.forEach((p, i) => {
      const l = licenses[i % licenses.length];
      catalogue.purchaseOrders.push({ number: `PO-${10000 + i}`, licenseId: l.id, requesterId: p.id, assetId: l.assetId });
    });

    procurement = await startProcurement(catalogue);
    gateway = await startGateway([
      { name: 'seatgraph', url: `${seatgraphURL()}/query` },
      { name: 'procurement', url: procurement.url },
    ]);
  });

  after(async () => {
    await gateway?.stop();
    await procurement?.stop();
  });

  test("forwards the caller's Authorization header to seatgraph", async () => {
    const data = await must('{ viewer { tenantId subject } }');
    assert.deepEqual(data.viewer, { tenantId: tenants().a, subject: 'e2e-tester' });

    const anonymous = await ask('{ licenses(first: 1) { nodes { id } } }', null);
    assert.ok(codes(anonymous).includes('UNAUTHENTICATED'), JSON.stringify(anonymous));
  });

  test('seatgraph License → procurement costCenter and TechnologyAsset → seatgraph owner', async () => {
    const data = await must(`{
      licenses(first: 100) { nodes {
        id name costCenter
        asset { id name vendor costCenter owner { id email } }
      } }
    }`);
    const people = new Map(acme.people.nodes.map((p) => [p.id, p]));
    assert.equal(data.licenses.nodes.length, acme.licenses.nodes.length);
    for (const l of data.licenses.nodes) {
      const src = acme.licenses.nodes.find((x) => x.id === l.id);
      const asset = catalogue.assets.get(src.assetId);
      assert.equal(l.costCenter, catalogue.costCenters.get(l.id), `costCenter of ${l.name}`);
      assert.deepEqual(l.asset, {
        id: asset.id, name: asset.name, vendor: asset.vendor, costCenter: asset.costCenter,
        owner: { id: asset.ownerId, email: people.get(asset.ownerId).email },
      });
    }
  });

  test('procurement TechnologyAsset → owner Person resolved by seatgraph', async () => {
    const data = await must(`{
      assets { id name owner { id email name groups(first: 5) { totalCount } } }
    }`);
    const people = new Map(acme.people.nodes.map((p) => [p.id, p]));
    assert.equal(data.assets.length, catalogue.assets.size);
    for (const a of data.assets) {
      const owner = people.get(catalogue.assets.get(a.id).ownerId);
      assert.equal(a.owner.id, owner.id);
      assert.equal(a.owner.email, owner.email);
      assert.equal(a.owner.name, owner.name);
      assert.equal(typeof a.owner.groups.totalCount, 'number');
    }
  });

  test('100 references from procurement cost seatgraph a bounded number of statements', async (t) => {
    const query = (n) => `{
      purchaseOrders(first: ${n}) {
        number
        license { id name vendor }
        requester { id email name }
      }
    }`;
    const cost = async (n) => {
      const [before, sent, reps] = [await statements(), gateway.requests.seatgraph, gateway.representations.seatgraph];
      const data = await must(query(n));
      const spent = (await statements()) - before;
      return { data, spent, requests: gateway.requests.seatgraph - sent, reps: gateway.representations.seatgraph - reps };
    };
    const small = await cost(10);
    const { data, spent, requests, reps } = await cost(100);
    t.diagnostic(`seatgraph: ${small.spent} SQL statements in ${small.requests} requests (${small.reps} representations) ` +
      `for 10 purchase orders; ${spent} in ${requests} (${reps} representations) for 100; bound ${statementBound}`);
    // 100 distinct requesters, plus the licenses (the gateway may send a
    // repeated representation once).
    assert.ok(reps >= 100 + acme.licenses.nodes.length, `seatgraph received only ${reps} representations`);

    const licenses = new Map(acme.licenses.nodes.map((l) => [l.id, l]));
    const people = new Map(acme.people.nodes.map((p) => [p.id, p]));
    assert.equal(data.purchaseOrders.length, 100);
    data.purchaseOrders.forEach((o, i) => {
      const src = catalogue.purchaseOrders[i];
      assert.equal(o.number, src.number);
      const l = licenses.get(src.licenseId);
      assert.deepEqual(o.license, { id: l.id, name: l.name, vendor: l.vendor });
      const p = people.get(src.requesterId);
      assert.deepEqual(o.requester, { id: p.id, email: p.email, name: p.name });
    });
    assert.ok(requests <= maxSeatgraphRequests, `the gateway sent ${requests} requests to seatgraph`);
    assert.ok(spent <= requests * sessionStatements + entityTypes,
      `${spent} statements in ${requests} requests: more than one SELECT per entity type`);
    assert.ok(spent <= statementBound, `100 references cost ${spent} statements, bound is ${statementBound}`);
    assert.equal(spent, small.spent, 'the cost grew with the number of references');
  });

  test("another tenant's caller sees none of the first tenant's entities", async () => {
    const foreign = await ask(`{
      assets { id owner { id email } }
      purchaseOrders(first: 100) { number license { id name } requester { id email } }
    }`, tok.b);
    assert.equal(foreign.data.assets.length, catalogue.assets.size);
    for (const a of foreign.data.assets) assert.equal(a.owner, null, `owner of ${a.id} leaked: ${JSON.stringify(a.owner)}`);
    for (const o of foreign.data.purchaseOrders) {
      assert.equal(o.license, null, `license of ${o.number} leaked: ${JSON.stringify(o.license)}`);
      assert.equal(o.requester, null, `requester of ${o.number} leaked: ${JSON.stringify(o.requester)}`);
    }
    const text = JSON.stringify(foreign);
    for (const p of acme.people.nodes) assert.ok(!text.includes(p.email), `${p.email} leaked`);

    // Asked by id through the gateway, tenant A's license is not there.
    const direct = await must(`{ license(id: "${acme.licenses.nodes[0].id}") { id name } }`, tok.b);
    assert.equal(direct.license, null);

    // Tenant B's own licenses resolve, with nothing of procurement's
    // tenant-A bookings attached.
    const own = await must('{ licenses(first: 100) { nodes { id costCenter asset { id } } } }', tok.b);
    assert.deepEqual(own.licenses.nodes.map((l) => l.id).sort(), globex.licenses.nodes.map((l) => l.id).sort());
    const acmeIDs = new Set(acme.licenses.nodes.map((l) => l.id));
    for (const l of own.licenses.nodes) {
      assert.ok(!acmeIDs.has(l.id));
      assert.equal(l.costCenter, null);
      assert.equal(l.asset, null);
    }
  });

  test('a caller without directory:read gets FORBIDDEN for the people procurement references', async () => {
    const body = await ask('{ assets { id owner { email } } }', tok.licensesOnly);
    assert.ok(codes(body).includes('FORBIDDEN'), JSON.stringify(body.errors));
    for (const a of body.data.assets) assert.equal(a.owner, null);
  });
});
