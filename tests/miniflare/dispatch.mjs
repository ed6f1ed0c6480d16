// Dispatches requests to the built Workers edge inside Miniflare (workerd), each with its own
// `request.cf`, which `wrangler dev` cannot vary. Used by tests/tests/geo.rs.
//
// usage: node tests/miniflare/dispatch.mjs '<json array of {url, headers, cf}>'
// env:   APEX_DOMAIN, REGION_URLS, EDGE_TOKEN_KEY, API_TOKEN_PUBLIC_KEYS (the edge's config)
// out:   one JSON object per request on stdout: {status, headers}
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.join(root, "functions/cloudflare/build");
const bindings = {};
for (const name of ["APEX_DOMAIN", "REGION_URLS", "EDGE_TOKEN_KEY", "API_TOKEN_PUBLIC_KEYS", "ASSET_VERSION"]) {
  if (process.env[name] !== undefined) bindings[name] = process.env[name];
}
const mf = new Miniflare({
  modules: true,
  scriptPath: path.join(build, "index.js"),
  modulesRoot: build,
  modulesRules: [
    { type: "ESModule", include: ["**/*.js"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  compatibilityDate: "2026-04-20",
  bindings,
});
try {
  for (const r of JSON.parse(process.argv[2])) {
    const res = await mf.dispatchFetch(r.url, { headers: r.headers ?? {}, cf: r.cf });
    await res.arrayBuffer();
    console.log(JSON.stringify({ status: res.status, headers: Object.fromEntries(res.headers) }));
  }
} finally {
  await mf.dispose();
}
