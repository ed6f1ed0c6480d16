// Dispatches requests to the built Workers edge inside Miniflare (workerd), each with its own
// `request.cf`, which `wrangler dev` cannot vary. One Miniflare (and one edge cache) per
// process, so a test can act between requests. Driven by tests/src/lib.rs (`Miniflare`).
//
// usage: node tests/miniflare/dispatch.mjs   (configuration: see edge.mjs)
// in:    one JSON request per line: {url, headers, cf}
// out:   "ready" once started, then one JSON line per request: {status, headers, body}
import readline from "node:readline";
import { startEdge } from "./edge.mjs";

const mf = startEdge();
try {
  await mf.ready;
  console.log(JSON.stringify("ready"));
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    const res = await mf.dispatchFetch(r.url, { headers: r.headers ?? {}, cf: r.cf });
    const body = await res.text();
    console.log(JSON.stringify({ status: res.status, headers: Object.fromEntries(res.headers), body }));
  }
} finally {
  await mf.dispose();
}
