#!/usr/bin/env node
// Run Apollo Gateway (the reference router for differential testing) on a supergraph file, or print
// Apollo's query plan for an operation.
//
// Serve:  node apollo-gateway.mjs --supergraph FILE [--port 4000] [--host 127.0.0.1]
//                                 [--urls '{"name": "http://..."}' | --urls-file FILE.json]
//         Prints one line "READY http://HOST:PORT/" on stdout once it accepts requests.
//         Routing URLs in the supergraph are replaced for the subgraphs named in the map
//         (names as in @join__graph(name:)).
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
  else if (arg === "--operation-name") options.operationName = next();
  else {
    console.error(`unexpected argument ${arg}`);
    process.exit(2);
  }
}
if (!options.supergraph) {
  console.error("--supergraph FILE is required");
  process.exit(2);
}
const supergraphSdl = readFileSync(options.supergraph, "utf8");

if (options.plan) {
  const { Supergraph, operationFromDocument } = await import("@apollo/federation-internals");
  const { QueryPlanner, prettyFormatQueryPlan } = await import("@apollo/query-planner");
  const supergraph = Supergraph.build(supergraphSdl);
  const planner = new QueryPlanner(supergraph);
  const document = parse(readFileSync(options.plan, "utf8"));
  const operation = operationFromDocument(supergraph.schema, document, {
    operationName: options.operationName,
  });
  // No process.exit(): it could cut a piped stdout short.
  process.stdout.write(`${prettyFormatQueryPlan(planner.buildQueryPlan(operation))}\n`);
} else {
  await serve();
}

async function serve() {
  const { ApolloGateway, RemoteGraphQLDataSource } = await import("@apollo/gateway");
  const { ApolloServer } = await import("@apollo/server");
  const { startStandaloneServer } = await import("@apollo/server/standalone");

  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService({ name, url }) {
      return new RemoteGraphQLDataSource({ url: options.urls[name] ?? url });
    },
  });
  const server = new ApolloServer({
    gateway,
    includeStacktraceInErrorResponses: false,
    introspection: true,
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: options.port, host: options.host },
  });
  console.log(`READY ${url}`);

  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
