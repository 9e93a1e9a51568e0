/**
 * TLS on the running runtime's TCP transport (`deno test`: Deno.listenTls /
 * Deno.startTls; `bun test`: Bun.listen / Bun.connect with `tls`): the whole
 * transport conformance suite over TLS, certificate and name checks, and
 * `openssl s_client` as a client nobody here wrote.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { ConfigError } from "../../src/error.ts";
import { TlsError } from "../../src/transport/errors.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import type { Transport } from "../../src/transport/types.ts";
import { makeTestPki } from "../_tls/certs.ts";
import { conformance } from "./_conformance.ts";
import { accept, readAll, writeAndClose } from "./_util.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const tcp = await runtimeTransport();
const pki = makeTestPki();
after(() => pki.remove());

/** The runtime transport with TLS on both ends: our CA trusted, the name `localhost` checked. */
const tls: Transport = {
  listen: (options) => tcp.listen({ ...options, tls: { cert: pki.cert, key: pki.key } }),
  connect: (options) => tcp.connect({ ...options, tls: { ca: pki.ca, serverName: "localhost" } }),
};

conformance(`${runtime} tls`, tls, {
  addrTransport: "tcp",
  maxInFlight: 32 * 1024 * 1024,
  transferBytes: 16 * 1024 * 1024,
});

const text = new TextEncoder();

test(`${runtime} tls: a client checks the certificate against the address it dialled by default`, async () => {
  await using listener = await tls.listen({ port: 0 });
  const it = listener[Symbol.asyncIterator]();
  // No serverName: 127.0.0.1 is checked, and the certificate carries it as an IP SAN.
  const client = await tcp.connect({ port: listener.addr.port, tls: { ca: [pki.ca] } });
  const server = await accept(it);
  await writeAndClose(client, text.encode("over tls"));
  assert.equal(new TextDecoder().decode(await readAll(server.readable)), "over tls");
  client.close();
  server.close();
});

test(`${runtime} tls: an untrusted certificate or a wrong name rejects connect with TlsError, and the listener carries on`, async () => {
  await using listener = await tls.listen({ port: 0 });
  const port = listener.addr.port;
  const serving = (async () => {
    for await (const conn of listener) {
      conn.readable.pipeTo(conn.writable).catch(() => conn.close()); // echo
    }
  })();
  await assert.rejects(tcp.connect({ port, tls: { ca: pki.otherCa } }), TlsError);
  await assert.rejects(
    tcp.connect({ port, tls: { ca: pki.ca, serverName: "wrong.example" } }),
    (error) => error instanceof TlsError && error.code === "ERR_TLS",
  );
  // A client that speaks plain TCP to the TLS port gets nowhere, and breaks nothing.
  const plain = await tcp.connect({ port });
  await writeAndClose(plain, text.encode("GET / HTTP/1.0\r\n\r\n"));
  await readAll(plain.readable).catch(() => {}); // an alert, or a reset: either ends it
  plain.close();
  const good = await tls.connect({ port });
  await writeAndClose(good, text.encode("still serving"));
  assert.equal(new TextDecoder().decode(await readAll(good.readable)), "still serving");
  good.close();
  await listener.close();
  await serving;
});

test(`${runtime} tls: a certificate or key that is not what it claims is refused at listen`, async () => {
  await assert.rejects(tcp.listen({ port: 0, tls: { cert: pki.cert, key: "key" } }), ConfigError);
  // Well-formed PEM, but the key is not the certificate's.
  await assert.rejects(
    tcp.listen({ port: 0, tls: { cert: pki.cert, key: otherKey() } }),
    TlsError,
  );
  // A certificate where the key should be.
  await assert.rejects(tcp.listen({ port: 0, tls: { cert: pki.cert, key: pki.cert } }), TlsError);
});

test(`${runtime} tls: the options are validated, and the memory transport refuses them`, async () => {
  await assert.rejects(tcp.connect({ port: 1, tls: { ca: [] } }), ConfigError);
  await assert.rejects(
    tcp.connect({ port: 1, tls: { ca: pki.ca, extra: 1 } as never }),
    ConfigError,
  );
  await assert.rejects(
    memoryTransport.listen({ port: 0, tls: { cert: pki.cert, key: pki.key } }),
    ConfigError,
  );
  await assert.rejects(memoryTransport.connect({ port: 1, tls: {} }), ConfigError);
});

test(`${runtime} tls: openssl s_client verifies our server and exchanges bytes both ways`, async () => {
  await using listener = await tls.listen({ port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      // Upper-case echo until the peer's EOF: proves bytes went both ways decrypted.
      conn.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
        new TransformStream<string, string>({ transform: (s, c) => c.enqueue(s.toUpperCase()) }),
      ).pipeThrough(new TextEncoderStream()).pipeTo(conn.writable).catch(() => conn.close());
    }
  })();
  const { code } = await sClient(listener.addr.port, "hello from openssl\n", /HELLO FROM OPENSSL/);
  assert.equal(code, 0); // verified (-verify_return_error), and it got the answer
  await listener.close();
  await serving;
});

/**
 * `openssl s_client`, trusting our CA only and failing on any verification
 * error: sends `input`, waits until its output matches `expect`, then closes
 * its stdin (it then sends close_notify and exits).
 */
function sClient(
  port: number,
  input: string,
  expect: RegExp,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-CAfile",
      pki.caFile,
      "-verify_return_error",
      "-verify_hostname",
      "localhost",
      "-brief",
    ], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (expect.test(stdout)) child.stdin.end();
    });
    child.stderr.resume();
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout }));
    child.stdin.write(input);
  });
}

/** A private key that belongs to no certificate here. */
function otherKey(): string {
  const { privateKey } = globalThis.process.getBuiltinModule("node:crypto").generateKeyPairSync(
    "ec",
    { namedCurve: "P-256" },
  );
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}
