#!/usr/bin/env node
// Compose Federation subgraph SDL files into a Federation 2 supergraph SDL with the MIT composer
// (@theguild/federation-composition).
//
// Usage:
//   node compose.mjs [-o OUT] [--url NAME=URL ...] NAME=FILE.graphql ...
//   node compose.mjs [-o OUT] [--url NAME=URL ...] --dir DIR      (every DIR/*.graphql, NAME = file stem)
//
// Routing URLs default to http://NAME.subgraphs.test/graphql (tests override them at run time).
// On success the supergraph SDL goes to OUT or stdout and the exit code is 0. On failure the
// composition errors are printed to stdout as JSON [{"message", "code"}] and the exit code is 1.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

function usage(message) {
  if (message) console.error(message);
  console.error("usage: node compose.mjs [-o OUT] [--url NAME=URL ...] (NAME=FILE ... | --dir DIR)");
  process.exit(2);
}

const files = new Map();
const urls = new Map();
let out = null;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "-o" || arg === "--out") {
    out = args[++i];
  } else if (arg === "--url") {
    const [name, ...rest] = (args[++i] ?? "").split("=");
    if (!name || rest.length === 0) usage(`bad --url ${args[i]}`);
    urls.set(name, rest.join("="));
  } else if (arg === "--dir") {
    const dir = args[++i];
    for (const entry of readdirSync(dir).sort()) {
      if (entry.endsWith(".graphql")) files.set(basename(entry, ".graphql"), join(dir, entry));
    }
  } else if (arg === "-h" || arg === "--help") {
    usage();
  } else if (arg.includes("=")) {
    const [name, ...rest] = arg.split("=");
    files.set(name, rest.join("="));
  } else {
    usage(`unexpected argument ${arg}`);
  }
}
if (files.size === 0) usage("no subgraphs given");

const services = [];
for (const [name, file] of files) {
  const sdl = readFileSync(file, "utf8");
  let typeDefs;
  try {
    typeDefs = parse(sdl);
  } catch (error) {
    console.log(JSON.stringify([{ message: `${name}: ${error.message}`, code: "PARSE_ERROR" }], null, 2));
    process.exit(1);
  }
  services.push({ name, typeDefs, url: urls.get(name) ?? `http://${name}.subgraphs.test/graphql` });
}

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  const errors = result.errors.map((error) => ({
    message: error.message,
    code: error.extensions?.code ?? null,
  }));
  console.log(JSON.stringify(errors, null, 2));
  process.exit(1);
}
const sdl = result.supergraphSdl.endsWith("\n") ? result.supergraphSdl : `${result.supergraphSdl}\n`;
if (out) writeFileSync(out, sdl);
else process.stdout.write(sdl);
