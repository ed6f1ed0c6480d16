// The built Workers edge in Miniflare (workerd), configured from the environment like the
// stack's edges: APEX_DOMAIN, REGION_URLS, EDGE_TOKEN_KEY, SESSION_KEYS, API_TOKEN_PUBLIC_KEYS, and
// optionally ASSET_VERSION, PAGE_MAX_AGE. Shared by dispatch.mjs and serve.mjs.
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const build = path.join(root, "functions/cloudflare/build");
const VARS = ["APEX_DOMAIN", "REGION_URLS", "EDGE_TOKEN_KEY", "SESSION_KEYS", "API_TOKEN_PUBLIC_KEYS", "ASSET_VERSION", "PAGE_MAX_AGE"];

/// A Miniflare running the edge; `listen` ({host, port}) serves it on a socket of workerd's
/// own (no proxy in front), otherwise it is reached through `dispatchFetch` only.
export function startEdge(listen = {}) {
  const bindings = {};
  for (const name of VARS) {
    if (process.env[name] !== undefined) bindings[name] = process.env[name];
  }
  return new Miniflare({
    modules: true,
    scriptPath: path.join(build, "index.js"),
    modulesRoot: build,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2026-04-20",
    bindings,
    ...listen,
  });
}
