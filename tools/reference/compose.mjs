#!/usr/bin/env node
// Compose Federation subgraph SDL files into a Federation 2 supergraph SDL with the MIT composer
// (@theguild/federation-composition).
//
// Usage:
//   node compose.mjs [-o OUT] [--url NAME=URL ...] NAME=FILE.graphql ...
//   node compose.mjs [-o OUT] [--url NAME=URL ...] --dir DIR      (every DIR/*.graphql, NAME = file stem)
//   node compose.mjs --batch CASES_DIR    (every CASES_DIR/TOPIC/CASE/subgraphs; prints JSON
//                                          {"TOPIC/CASE": {"supergraph": SDL} | {"errors": [...]}})
//
// `--composer apollo` composes with Apollo's @apollo/composition instead (Elastic-2.0: used as an
// oracle, to cross-check the MIT composer; the committed supergraphs come from the MIT one).
//
// Routing URLs default to http://NAME.subgraphs.test/graphql (tests override them at run time).
// On success the supergraph SDL goes to OUT or stdout and the exit code is 0. On failure the
// composition errors are printed to stdout as JSON [{"message", "code"}] and the exit code is 1.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "graphql";
import { composeServices as composeWithGuild } from "@theguild/federation-composition";

function usage(message) {
  if (message) console.error(message);
  console.error(
    "usage: node compose.mjs [-o OUT] [--composer guild|apollo] [--url NAME=URL ...] (NAME=FILE ... | --dir DIR)",
  );
  process.exit(2);
}

const files = new Map();
const urls = new Map();
let out = null;
let batch = null;
let composer = "guild";
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "-o" || arg === "--out") {
    out = args[++i];
  } else if (arg === "--composer") {
    composer = args[++i];
    if (composer !== "guild" && composer !== "apollo") usage(`unknown composer ${composer}`);
  } else if (arg === "--batch") {
    batch = args[++i];
  } else if (arg === "--url") {
    const [name, ...rest] = (args[++i] ?? "").split("=");
    if (!name || rest.length === 0) usage(`bad --url ${args[i]}`);
    urls.set(name, rest.join("="));
  } else if (arg === "--dir") {
    for (const [name, file] of subgraphFiles(args[++i])) files.set(name, file);
  } else if (arg === "-h" || arg === "--help") {
    usage();
  } else if (arg.includes("=")) {
    const [name, ...rest] = arg.split("=");
    files.set(name, rest.join("="));
  } else {
    usage(`unexpected argument ${arg}`);
  }
}
function subgraphFiles(dir) {
  const found = new Map();
  for (const entry of readdirSync(dir).sort()) {
    if (entry.endsWith(".graphql")) found.set(basename(entry, ".graphql"), join(dir, entry));
  }
  return found;
}

const composeServices =
  composer === "apollo" ? (await import("@apollo/composition")).composeServices : composeWithGuild;

// Returns {supergraph} or {errors: [{message, code}]}.
function compose(subgraphs) {
  const services = [];
  for (const [name, file] of subgraphs) {
    try {
      const typeDefs = parse(readFileSync(file, "utf8"));
      services.push({ name, typeDefs, url: urls.get(name) ?? `http://${name}.subgraphs.test/graphql` });
    } catch (error) {
      return { errors: [{ message: `${name}: ${error.message}`, code: "PARSE_ERROR" }] };
    }
  }
  const result = composeServices(services);
  if (result.errors && result.errors.length > 0) {
    return {
      errors: result.errors.map((error) => ({ message: error.message, code: error.extensions?.code ?? null })),
    };
  }
  const sdl = result.supergraphSdl;
  return { supergraph: sdl.endsWith("\n") ? sdl : `${sdl}\n` };
}

// Output goes through process.exitCode, not process.exit(): exiting at once would cut a piped
// stdout short.
if (batch) {
  const results = {};
  for (const topic of readdirSync(batch).sort()) {
    let cases;
    try {
      cases = readdirSync(join(batch, topic)).sort();
    } catch {
      continue;
    }
    for (const name of cases) {
      let subgraphs;
      try {
        subgraphs = subgraphFiles(join(batch, topic, name, "subgraphs"));
      } catch {
        continue;
      }
      results[`${topic}/${name}`] = compose(subgraphs);
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  if (files.size === 0) usage("no subgraphs given");
  const result = compose(files);
  if (result.errors) {
    process.stdout.write(`${JSON.stringify(result.errors, null, 2)}\n`);
    process.exitCode = 1;
  } else if (out) {
    writeFileSync(out, result.supergraph);
  } else {
    process.stdout.write(result.supergraph);
  }
}
