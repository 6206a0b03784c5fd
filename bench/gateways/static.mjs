// Baseline: answers every request with the expected 87,599-byte body, doing no work.
// Shows the ceiling of the load generator. Usage: node gateways/static.mjs BODY_FILE PORT
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const [bodyPath, port] = process.argv.slice(2);
const body = readFileSync(bodyPath);
const headers = { "content-type": "application/json", "content-length": body.length };
createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, headers);
    res.end(body);
  });
}).listen(Number(port), "127.0.0.1", () => console.log(`static ready on ${port}`));
