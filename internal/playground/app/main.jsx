// The playground page's script: GraphiQL on seatgraph's /query, with every
// asset served by the seatgraph binary itself (../playground.go), so that
// the page works without internet. build.mjs bundles it into ../dist.
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';

// Monaco runs its language services in web workers; build.mjs bundles each
// next to this script.
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    const file = { json: 'json.worker.js', graphql: 'graphql.worker.js' }[label] ?? 'editor.worker.js';
    return new Worker(new URL(file, import.meta.url));
  },
};

// The server writes the settings into the page as JSON (never as script).
const config = JSON.parse(document.getElementById('seatgraph-config').textContent);
const params = new URLSearchParams(window.location.search);

const defaultQuery = `# seatgraph playground. Run with Ctrl-Enter; browse the schema in the Docs pane.
# Every request needs an Authorization header (Headers tab below).
{
  viewer { tenantId subject scopes }
  licenses(first: 5) {
    totalCount
    nodes { id name seats { total used available } }
  }
}
`;

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL
    fetcher={createGraphiQLFetcher({ url: config.endpoint })}
    defaultQuery={defaultQuery}
    initialQuery={params.get('query') ?? undefined}
    initialHeaders={config.headers || undefined}
    defaultHeaders={config.headers || undefined}
    defaultEditorToolsVisibility={config.headers ? 'headers' : undefined}
  />,
);
