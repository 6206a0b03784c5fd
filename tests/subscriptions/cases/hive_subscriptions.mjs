// Hive Gateway (bench/node_modules) serving a supergraph with subgraph subscriptions over
// graphql-transport-ws: the oracle of tests/subscriptions/cases/*.json (record.py records them).
// Usage: node hive_subscriptions.mjs SUPERGRAPH '{"name": "http://..."}'
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
const [supergraphPath, urlsJson] = process.argv.slice(2);
const bench = createRequire(new URL("../../../bench/package.json", import.meta.url));
const load = (name) => import(pathToFileURL(bench.resolve(name)).href);
const { createGatewayRuntime } = await load("@graphql-hive/gateway-runtime");
const { unifiedGraphHandler } = await load("@graphql-hive/router-runtime");
const urls = JSON.parse(urlsJson);
const sdl = readFileSync(supergraphPath, "utf8").replace(
  /@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g,
  (whole, name) => (name in urls ? `@join__graph(name: "${name}", url: ${JSON.stringify(urls[name])})` : whole),
);
const gateway = createGatewayRuntime({
  supergraph: sdl, unifiedGraphHandler, graphiql: false, landingPage: false, logging: false,
  transportEntries: { "*.http": { options: { subscriptions: { kind: "ws" } } } },
});
const server = createServer(gateway);
await new Promise((r) => server.listen(0, "127.0.0.1", r));
console.log(`READY http://127.0.0.1:${server.address().port}/graphql`);
