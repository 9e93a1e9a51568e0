import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { intInRange, oneOf, parseOptions } from "../../src/_internal/options.ts";
import { ConfigError } from "../../src/error.ts";

const schema = z.strictObject({
  size: intInRange(1, 10).default(4),
  order: oneOf(["big", "little"]).default("big"),
});

test("parseOptions applies defaults to missing and undefined input", () => {
  assert.deepEqual(parseOptions("Thing", schema, undefined), { size: 4, order: "big" });
  assert.deepEqual(parseOptions("Thing", schema, { size: 7 }), { size: 7, order: "big" });
});

test("parseOptions names the option and its range when out of range", () => {
  assert.throws(() => parseOptions("Thing", schema, { size: 11 }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, "ERR_CONFIG");
    assert.equal(err.option, "size");
    assert.equal(err.message, 'Thing: option "size" must be an integer from 1 to 10 (got 11)');
    return true;
  });
});

test("parseOptions rejects non-integers and wrong types with the same range", () => {
  for (const bad of [2.5, "3", Number.NaN]) {
    assert.throws(
      () => parseOptions("Thing", schema, { size: bad }),
      /"size" must be an integer from 1 to 10/,
    );
  }
});

test("parseOptions lists the allowed literals", () => {
  assert.throws(
    () => parseOptions("Thing", schema, { order: "middle" }),
    /option "order" must be one of "big", "little" \(got "middle"\)/,
  );
});

test("parseOptions rejects unknown keys and lists the known ones", () => {
  assert.throws(() => parseOptions("Thing", schema, { sise: 3 }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.option, "sise");
    assert.match(err.message, /is not a known option \(known: size, order\)/);
    return true;
  });
});

test("parseOptions never repeats a secret in its message: a key or password is redacted, nested too", () => {
  const tls = z.strictObject({
    cert: z.string().startsWith("-----BEGIN"),
    key: z.string().startsWith("-----BEGIN"),
  });
  const secrets = z.strictObject({ tls: tls.optional(), password: z.string().min(8).optional() });
  const privateKey = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-pem-but-secret";
  const messageOf = (input: unknown): string => {
    try {
      parseOptions("Server.listen", secrets, input);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    assert.fail("expected a ConfigError");
  };
  const badKey = messageOf({ tls: { cert: "-----BEGIN CERTIFICATE-----", key: privateKey } });
  assert.match(badKey, /option "tls\.key" .*\(got \[redacted\]\)/);
  // An unknown option inside tls shows the tls object: its key is redacted there too.
  const pem = `-----BEGIN PRIVATE KEY-----${privateKey}`;
  const unknown = messageOf({ tls: { cert: "-----BEGIN", key: pem, bogus: 1 } });
  assert.match(unknown, /"key":"\[redacted\]"/);
  assert.match(messageOf({ password: "short" }), /\(got \[redacted\]\)/);
  for (const message of [badKey, unknown]) assert.ok(!message.includes(privateKey), message);
  // A long value (a PEM certificate) is cut short.
  const longCert = messageOf({ tls: { cert: "x".repeat(5000), key: "-----BEGIN" } });
  assert.match(longCert, /… \(5000 characters\)/);
});
