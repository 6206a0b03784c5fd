// Copies Chart.js's own UMD bundle into ../static/vendor/ (committed: the portal serves it offline).
// Run after `npm ci` here: `npm run build`.
import { copyFileSync, mkdirSync } from 'node:fs';

const out = new URL('../static/vendor/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
copyFileSync('node_modules/chart.js/dist/chart.umd.js', `${out}chart.umd.js`);
copyFileSync('node_modules/chart.js/LICENSE.md', `${out}chart.js.LICENSE.md`);
console.log(`Chart.js written to ${out}`);
