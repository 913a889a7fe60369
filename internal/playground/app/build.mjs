// Bundles the playground (main.jsx: GraphiQL, React, Monaco and its
// workers) into ../dist, minified, for the seatgraph binary to embed.
// The output depends only on package-lock.json and these sources, so
// `make check-generated` can rebuild it and compare with what is committed.
//
//   node build.mjs [outdir]     (default ../dist)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = process.argv[2] ?? `${here}../dist`;
rmSync(outdir, { recursive: true, force: true });

const common = {
  bundle: true,
  minify: true,
  target: 'es2022',
  legalComments: 'external',
  logLevel: 'warning',
  absWorkingDir: here,
  define: { 'process.env.NODE_ENV': '"production"' },
};

await build({
  ...common,
  entryPoints: { playground: 'main.jsx' },
  outdir,
  format: 'esm',
  jsx: 'automatic',
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'dataurl', '.png': 'dataurl' },
  assetNames: '[name]-[hash]',
});

await build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  outdir,
  format: 'iife',
});
