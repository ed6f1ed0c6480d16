// Serves the built Workers edge from workerd's own socket (Miniflare, without the proxy
// `wrangler dev` puts in front of it), until stdin closes. Used by `cargo xtask bench` for
// its many-connections scenario, where that proxy — a second connection per client — is
// what would be measured.
//
// usage: PORT=<port> node tests/miniflare/serve.mjs   (configuration: see edge.mjs)
// out:   "ready <url>" once it answers
import { startEdge } from "./edge.mjs";

const mf = startEdge({ host: "127.0.0.1", port: Number(process.env.PORT) });
try {
  const url = await mf.ready;
  console.log(`ready ${url}`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on("end", resolve).on("close", resolve));
} finally {
  await mf.dispose();
}
