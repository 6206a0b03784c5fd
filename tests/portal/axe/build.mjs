// Copies axe-core into this folder as axe.min.js (committed: the browser tests inject it; the
// portal never serves it). Run after `npm ci` here: `npm run build`.
import { copyFileSync } from 'node:fs';

copyFileSync('node_modules/axe-core/axe.min.js', 'axe.min.js');
copyFileSync('node_modules/axe-core/LICENSE', 'axe-core.LICENSE');
console.log('axe-core written to axe.min.js');
