/**
 * Every example server with `--tls-cert FILE --tls-key FILE` serves TLS
 * only (but the MySQL one, which offers TLS the MySQL way: see
 * tests/mysql/tls.test.ts) and still prints `listening on HOST:PORT`: checked with
 * `openssl s_client` (verifying the certificate against the test CA), with
 * an SMTP dialogue over it, and with our own client against the echo server.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { TlsError, WireframeClient } from "../../mod.ts";
import { makeTestPki } from "../_tls/certs.ts";
import { startExample } from "./_process.ts";

const pki = makeTestPki();
after(() => pki.remove());
const tlsArgs = ["--tls-cert", pki.certFile, "--tls-key", pki.keyFile];

interface SClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `openssl s_client` to `port`, trusting the test CA only and failing on any
 * verification error; writes `input` (CRLF line ends), ends stdin once its
 * output matches `until`, and resolves when it exits.
 */
function sClient(port: number, input: string, until: RegExp, extra: string[] = []) {
  return new Promise<SClientRun>((resolve, reject) => {
    const child = spawn("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-crlf",
      "-CAfile",
      pki.caFile,
      "-verify_return_error",
      "-verify_hostname",
      "localhost",
      "-brief",
      ...extra,
    ]);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (until.test(stdout)) child.stdin.end();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    if (input === "") child.stdin.end();
    else child.stdin.write(input);
  });
}

test("the SMTP example over TLS: openssl s_client verifies it and holds a session", async () => {
  await using smtp = await startExample("smtp_server.ts", tlsArgs);
  const run = await sClient(smtp.port, "EHLO openssl.example\nQUIT\n", /^221 /m);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Verification: OK/);
  assert.match(run.stdout, /^220 wireframe ESMTP ready\r?$/m);
  assert.match(run.stdout, /^250 hello openssl\.example\r?$/m);
  assert.match(run.stdout, /^221 2\.0\.0 bye\r?$/m);
  assert.equal(await smtp.terminate(), 0);
});

test("the echo example over TLS answers our client, and refuses one that does not trust it", async () => {
  await using echo = await startExample("echo_server.ts", tlsArgs);
  const tls = { ca: pki.ca, serverName: "localhost" };
  await using client = await WireframeClient.connect({ port: echo.port, tls });
  const reply = await client.request(1, new TextEncoder().encode("over tls"), {
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(new TextDecoder().decode(reply.payload), "over tls");
  await assert.rejects(
    WireframeClient.connect({ port: echo.port, tls: { ca: pki.otherCa } }),
    TlsError,
  );
  await client.close();
  assert.equal(await echo.terminate(), 0);
});

for (
  // The MySQL example upgrades with SSLRequest instead: tests/mysql/tls.test.ts.
  const file of ["push_server.ts", "fragment_echo_server.ts", "mqtt/broker.ts"]
) {
  test(`examples/${file} with --tls-cert/--tls-key completes a verified TLS handshake`, async () => {
    await using server = await startExample(file, tlsArgs);
    const run = await sClient(server.port, "", /$^/);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Verification: OK/);
    assert.equal(await server.terminate(), 0);
  });
}

test("an example given only one of --tls-cert and --tls-key exits with status 2", async () => {
  await assert.rejects(
    startExample("echo_server.ts", ["--tls-cert", pki.certFile]),
    /exited early \(2\)/,
  );
});
