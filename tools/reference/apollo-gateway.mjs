#!/usr/bin/env node
// Run Apollo Gateway (the reference router for differential testing) on a supergraph file, or print
// Apollo's query plan for an operation.
//
// Serve:  node apollo-gateway.mjs --supergraph FILE [--port 4000] [--host 127.0.0.1]
//                                 [--urls '{"name": "http://..."}' | --urls-file FILE.json]
//         Prints one line "READY http://HOST:PORT/" on stdout once it accepts requests.
//         Routing URLs in the supergraph are replaced for the subgraphs named in the map
//         (names as in @join__graph(name:)).
// Many:   node apollo-gateway.mjs --many SPECS.json [--host 127.0.0.1]
//         SPECS.json: [{"supergraph": FILE, "urls": {...}}, ...]; one gateway per spec, each on an
//         ephemeral port, in one process. Prints "READY <index> <url>" per gateway, then "READY ALL".
// Plan:   node apollo-gateway.mjs --supergraph FILE --plan OPERATION.graphql [--operation-name N]
//         Prints prettyFormatQueryPlan's text of the plan.
import { readFileSync } from "node:fs";
import { parse } from "graphql";

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
  else if (arg === "--plan") options.plan = next();
  else if (arg === "--many") options.many = next();
  else if (arg === "--operation-name") options.operationName = next();
  else {
    console.error(`unexpected argument ${arg}`);
    process.exit(2);
  }
}
if (!options.supergraph && !options.many) {
  console.error("--supergraph FILE or --many SPECS.json is required");
  process.exit(2);
}

if (options.plan) {
  const { Supergraph, operationFromDocument } = await import("@apollo/federation-internals");
  const { QueryPlanner, prettyFormatQueryPlan } = await import("@apollo/query-planner");
  const supergraph = Supergraph.build(readFileSync(options.supergraph, "utf8"));
  const planner = new QueryPlanner(supergraph);
  const document = parse(readFileSync(options.plan, "utf8"));
  const operation = operationFromDocument(supergraph.schema, document, {
    operationName: options.operationName,
  });
  // No process.exit(): it could cut a piped stdout short.
  process.stdout.write(`${prettyFormatQueryPlan(planner.buildQueryPlan(operation))}\n`);
} else if (options.many) {
  const specs = JSON.parse(readFileSync(options.many, "utf8"));
  const servers = [];
  for (const [index, spec] of specs.entries()) {
    const { server, url } = await serve(readFileSync(spec.supergraph, "utf8"), spec.urls ?? {}, 0);
    servers.push(server);
    console.log(`READY ${index} ${url}`);
  }
  console.log("READY ALL");
  stopOnSignal(servers);
} else {
  const supergraphSdl = readFileSync(options.supergraph, "utf8");
  const { server, url } = await serve(supergraphSdl, options.urls, options.port);
  console.log(`READY ${url}`);
  stopOnSignal([server]);
}

function stopOnSignal(servers) {
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function serve(supergraphSdl, urls, port) {
  const { ApolloGateway, RemoteGraphQLDataSource } = await import("@apollo/gateway");
  const { ApolloServer } = await import("@apollo/server");
  const { startStandaloneServer } = await import("@apollo/server/standalone");

  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService({ name, url }) {
      return new RemoteGraphQLDataSource({ url: urls[name] ?? url });
    },
  });
  const server = new ApolloServer({
    gateway,
    includeStacktraceInErrorResponses: false,
    introspection: true,
  });
  const { url } = await startStandaloneServer(server, { listen: { port, host: options.host } });
  return { server, url };
}
