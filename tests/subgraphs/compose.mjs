// Compose schema/<name>.graphql of the five OPD subgraphs with @theguild/federation-composition
// (MIT), installed under tools/reference. Usage: node compose.mjs <package dir> <schema dir>
// Prints the supergraph SDL, or the composition errors (exit 1).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(process.argv[2] + "/package.json");
const { composeServices } = require("@theguild/federation-composition");
const { parse } = require("graphql");
const names = ["wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial"];
const result = composeServices(names.map((name, i) => ({
  name, url: `http://127.0.0.1:${4001 + i}/graphql`,
  typeDefs: parse(readFileSync(`${process.argv[3]}/${name}.graphql`, "utf8")),
})));
if (result.errors && result.errors.length) {
  for (const e of result.errors) console.error(e.extensions?.code ?? "", e.message);
  process.exit(1);
}
process.stdout.write(result.supergraphSdl);
