// Shared parts of the end-to-end tests: the running seatgraph that
// e2e/run.sh started, tokens minted by its binary, GraphQL over HTTP, and
// an Apollo gateway composing seatgraph with other subgraphs.
import { execFileSync } from 'node:child_process';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { quiet } from './logger.mjs';

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the end-to-end tests with e2e/run.sh (make e2e)`);
  }
  return v;
}

/** seatgraph's base URL (no path), e.g. http://127.0.0.1:PORT. */
export const seatgraphURL = () => env('SEATGRAPH_URL');

/** The two seeded tenants: the tests read A's data with B's credentials. */
export const tenants = () => ({ a: env('E2E_TENANT_A'), b: env('E2E_TENANT_B') });

/**
 * token mints a JWT for tenant with the server's own `token` subcommand
 * (every scope unless scopes are given).
 */
export function token(tenant, scopes) {
  const args = ['token', '--tenant', tenant, '--sub', 'e2e-tester'];
  if (scopes) args.push('--scopes', scopes.join(' '));
  return execFileSync(env('SEATGRAPH_BIN'), args, { encoding: 'utf8' }).trim();
}

/**
 * graphql posts query to url as JSON and returns the parsed body; with a
 * token it sends it as the Authorization header.
 */
export async function graphql(url, query, { variables, token: tok } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (tok) headers.authorization = `Bearer ${tok}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  try {
    return { status: res.status, ...JSON.parse(text) };
  } catch {
    throw new Error(`${url} answered ${res.status} with a body that is not JSON: ${text.slice(0, 500)}`);
  }
}

/** mustQuery is graphql that throws on any error. */
export async function mustQuery(url, query, opts) {
  const body = await graphql(url, query, opts);
  if (body.errors?.length || !body.data) {
    throw new Error(`query failed (${body.status}): ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}

/** seatgraph queries seatgraph directly, bypassing the gateway. */
export const seatgraph = (query, opts) => mustQuery(`${seatgraphURL()}/query`, query, opts);

/**
 * statements is the number of SQL statements seatgraph has sent since it
 * started (GET /debug/statements, served when DEBUG_ENDPOINTS=true).
 */
export async function statements() {
  const res = await fetch(`${seatgraphURL()}/debug/statements`);
  if (!res.ok) throw new Error(`/debug/statements answered ${res.status}: is DEBUG_ENDPOINTS=true?`);
  return (await res.json()).statements;
}

/** codes lists the extensions.code of a response's errors. */
export const codes = (body) => (body.errors ?? []).map((e) => e.extensions?.code);

/**
 * startGateway composes subgraphs ([{name, url}]) from their _service.sdl
 * with IntrospectAndCompose and serves the supergraph through Apollo
 * Server on a free loopback port. The caller's Authorization header is
 * forwarded to every subgraph, so seatgraph sees the caller's credentials.
 * The returned requests and representations count, per subgraph name, the
 * requests the gateway sent and the entity representations they carried.
 */
export async function startGateway(subgraphs) {
  const requests = Object.fromEntries(subgraphs.map((s) => [s.name, 0]));
  const representations = { ...requests };
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({ subgraphs }),
    logger: quiet,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request, context }) {
          requests[name] += 1;
          representations[name] += request.variables?.representations?.length ?? 0;
          if (context.authorization) {
            request.http.headers.set('authorization', context.authorization);
          }
        },
      }),
  });
  const server = new ApolloServer({ gateway, logger: quiet });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return { url, requests, representations, stop: () => server.stop() };
}
