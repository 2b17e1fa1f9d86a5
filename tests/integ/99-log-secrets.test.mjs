// The last file of `make integ` (run alone, after every other file):
// the log of every server the run started, kept by the harness under
// KORIO_TEST_LOG_DIR, is scanned for the secrets of the run, which the
// harness kept next to them (each DATA_DIR's token secrets, secrets from
// the environment, every password the REST client sent and every token it
// got), for the known test passwords and for anything shaped like a JWT.
// None may be there. Run alone (no KORIO_TEST_LOG_DIR), only the scanner's
// own test runs.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { jwtSign, KNOWN_PASSWORDS, scanLogSecrets } from "./harness.mjs";

const DIR = process.env.KORIO_TEST_LOG_DIR;

describe("secrets in the logs of the whole run", () => {
  test("the scanner finds each kind of secret, and nothing in a clean log", () => {
    const token = jwtSign({ id: "x", exp: 1 }, "k");
    const key = "0123456789abcdef0123456789abcdef";
    const clean = "[parent]: korio is starting up\n{\"msg\":\"eio: session AbC open\",\"sid\":\"AbC\"}\n";
    assert.deepEqual(scanLogSecrets(clean, [key, "short"]), []);
    assert.equal(scanLogSecrets(`${clean}[wrk 1]: token ${token}\n`).length, 1);
    assert.equal(scanLogSecrets(`${clean}{"msg":"${key}"}\n`, [key]).length, 1);
    assert.equal(scanLogSecrets(`x ${KNOWN_PASSWORDS[0]} y`).length, 1);
    // A header and payload are enough to give a token away.
    assert.equal(scanLogSecrets(token.slice(0, token.lastIndexOf(".") + 1)).length, 1);
  });

  test("no server log of this run holds a secret", { skip: DIR ? false : "KORIO_TEST_LOG_DIR not set (make integ sets it)" }, (t) => {
    const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).sort() : [];
    const logs = files.filter((f) => f.endsWith(".log"));
    const secrets = new Set();
    for (const f of files.filter((x) => x.endsWith(".secrets.json"))) {
      for (const s of JSON.parse(fs.readFileSync(path.join(DIR, f), "utf8"))) secrets.add(s);
    }
    t.diagnostic(`${logs.length} server logs, ${secrets.size} secrets`);
    assert.ok(logs.length > 0, `no server logs under ${DIR}`);
    assert.ok(secrets.size > 0, `no secrets recorded under ${DIR}`);

    const found = [];
    for (const f of logs) {
      for (const x of scanLogSecrets(fs.readFileSync(path.join(DIR, f), "utf8"), secrets)) {
        found.push(`${f}: ${x.what} at ${x.where}`);
      }
    }
    assert.deepEqual(found, []);
  });
});
