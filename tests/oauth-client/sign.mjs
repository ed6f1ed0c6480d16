// The app side of SMART Backend Services, by a library we did not write: `jose` (panva),
// which many SMART clients use, makes the apps' key pairs and signs their client
// assertions; the e2e tests (tests/tests/oauth.rs) send them to our token endpoint.
//
// Reads one JSON request on stdin, writes one JSON answer on stdout:
//   {"op": "keys", "alg": "ES384" | "RS384", "kid": "…"}
//     → {"private": <JWK>, "public": <JWK with kid, alg, use>}
//   {"op": "sign", "jwk": <private JWK>, "header": {...}, "claims": {...}}
//     → {"jwt": "<compact JWS>"}
import { SignJWT, exportJWK, generateKeyPair, importJWK } from "jose";

const input = await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
});
const req = JSON.parse(input);

if (req.op === "keys") {
  const { publicKey, privateKey } = await generateKeyPair(req.alg, {
    extractable: true,
    modulusLength: 2048,
  });
  const pub = { ...(await exportJWK(publicKey)), kid: req.kid, alg: req.alg, use: "sig" };
  const priv = { ...(await exportJWK(privateKey)), kid: req.kid, alg: req.alg };
  process.stdout.write(JSON.stringify({ private: priv, public: pub }));
} else if (req.op === "sign") {
  const key = await importJWK(req.jwk, req.header.alg);
  const jwt = await new SignJWT(req.claims).setProtectedHeader(req.header).sign(key);
  process.stdout.write(JSON.stringify({ jwt }));
} else {
  process.stderr.write(`unknown op ${req.op}\n`);
  process.exit(2);
}
