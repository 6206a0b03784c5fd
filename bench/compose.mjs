// Compose bench/supergraph.graphql from the four subgraph SDLs in bench/subgraphs/
// with @theguild/federation-composition (MIT). Run: `npm run compose` (or `node compose.mjs`).
// The subgraph URLs are the ports bench/subgraphs/server.py listens on by default.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";

const here = dirname(fileURLToPath(import.meta.url));
const subgraphs = ["accounts", "inventory", "products", "reviews"];
const result = composeServices(
  subgraphs.map((name, i) => ({
    name,
    url: `http://127.0.0.1:${4001 + i}/graphql`,
    typeDefs: parse(readFileSync(join(here, "subgraphs", `${name}.graphql`), "utf8")),
  })),
);
if (result.errors && result.errors.length) {
  for (const e of result.errors) console.error(e.extensions?.code ?? "", e.message);
  process.exit(1);
}
writeFileSync(join(here, "supergraph.graphql"), result.supergraphSdl.trimEnd() + "\n");
console.log("wrote supergraph.graphql");
