// The procurement subgraph: a second subgraph written for the end-to-end
// tests. It owns TechnologyAsset (seatgraph only references it), adds
// costCenter to seatgraph's License, and points at seatgraph's Person by
// key, so that queries cross the two subgraphs in both directions.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { quiet } from './logger.mjs';

/** The procurement subgraph's schema, as it is composed with seatgraph's. */
export const typeDefs = parse(`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  # A piece of technology the company bought; procurement owns it.
  type TechnologyAsset @key(fields: "id") {
    id: ID!
    name: String!
    vendor: String!
    "The cost center the asset is booked on."
    costCenter: String!
    "Who is responsible for the asset: a seatgraph Person."
    owner: Person
  }

  # seatgraph's License, with procurement's booking data added. (Comments,
  # not descriptions, on the shared types: seatgraph's descriptions win.)
  type License @key(fields: "id") {
    id: ID!
    "The cost center the license's invoices are booked on."
    costCenter: String
  }

  # seatgraph's Person, referenced by key only.
  type Person @key(fields: "id", resolvable: false) {
    id: ID!
  }

  "An order for seats of a license, placed by a person."
  type PurchaseOrder {
    number: String!
    license: License
    requester: Person
    asset: TechnologyAsset
  }

  type Query {
    asset(id: ID!): TechnologyAsset
    assets: [TechnologyAsset!]!
    purchaseOrders(first: Int! = 100): [PurchaseOrder!]!
  }
`);

/**
 * A catalogue is procurement's data, keyed by seatgraph's ids:
 *   assets:         Map<assetId, {id, name, vendor, costCenter, ownerId}>
 *   costCenters:    Map<licenseId, string>
 *   purchaseOrders: [{number, licenseId, requesterId, assetId}]
 */
export function emptyCatalogue() {
  return { assets: new Map(), costCenters: new Map(), purchaseOrders: [] };
}

function resolvers(catalogue) {
  // A reference to another subgraph's entity is just its key; the gateway
  // adds __typename from the field's type.
  const ref = (id) => (id ? { id } : null);
  return {
    Query: {
      asset: (_, { id }) => catalogue.assets.get(id) ?? null,
      assets: () => [...catalogue.assets.values()],
      purchaseOrders: (_, { first }) => catalogue.purchaseOrders.slice(0, first),
    },
    TechnologyAsset: {
      __resolveReference: ({ id }) => catalogue.assets.get(id) ?? null,
      owner: (asset) => ref(asset.ownerId),
    },
    License: {
      __resolveReference: ({ id }) => ({ id }),
      costCenter: ({ id }) => catalogue.costCenters.get(id) ?? null,
    },
    PurchaseOrder: {
      license: (order) => ref(order.licenseId),
      requester: (order) => ref(order.requesterId),
      asset: (order) => catalogue.assets.get(order.assetId) ?? null,
    },
  };
}

/**
 * startProcurement serves the subgraph over catalogue on a free loopback
 * port; it answers from whatever the catalogue holds at query time.
 */
export async function startProcurement(catalogue) {
  const server = new ApolloServer({
    logger: quiet,
    schema: buildSubgraphSchema({ typeDefs, resolvers: resolvers(catalogue) }),
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}
