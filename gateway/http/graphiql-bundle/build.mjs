// Bundles GraphiQL into ../static/graphiql/ (committed: the gateway serves it offline).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const out = new URL('../static/graphiql/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { graphiql: 'src/index.jsx' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  loader: { '.js': 'jsx', '.woff': 'dataurl', '.woff2': 'dataurl', '.svg': 'dataurl' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  outdir: out,
  logLevel: 'warning',
});
copyFileSync('src/index.html', `${out}index.html`);
console.log(`GraphiQL bundle written to ${out}`);
