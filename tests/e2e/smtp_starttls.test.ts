/**
 * ctx.upgradeTls() (STARTTLS) through the SMTP example, with clients nobody
 * here wrote: curl --ssl-reqd delivers a message over the upgraded
 * connection, and openssl s_client -starttls smtp verifies the certificate
 * and carries on over TLS. Plain text pipelined behind STARTTLS is dropped.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { WireframeServer } from "../../mod.ts";
import { type Mail, smtpApp } from "../../examples/smtp_server.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import { startTls } from "../../src/transport/start_tls.ts";
import type { Connection } from "../../src/transport/types.ts";
import { makeTestPki } from "../_tls/certs.ts";
import { captureLogger } from "./_helpers.ts";

const pki = makeTestPki();
after(() => pki.remove());

async function smtpServer(mailbox: Mail[] = []) {
  const app = smtpApp(mailbox, { startTls: true }).logger(captureLogger().logger);
  const server = new WireframeServer(app);
  const { port } = await server.listen({ port: 0, startTls: { cert: pki.cert, key: pki.key } });
  return { port, [Symbol.asyncDispose]: () => server.shutdown({ timeoutMs: 1_000 }) };
}

test("curl --ssl-reqd upgrades with STARTTLS and delivers a message over TLS", async () => {
  const mailbox: Mail[] = [];
  await using smtp = await smtpServer(mailbox);
  const file = join(pki.dir, "mail.txt");
  writeFileSync(file, "Subject: over tls\r\n\r\nsecret\r\n");
  await new Promise<void>((resolve, reject) =>
    execFile("curl", [
      "--silent",
      "--show-error",
      "--max-time",
      "20",
      "--ssl-reqd",
      "--cacert",
      pki.caFile,
      `smtp://127.0.0.1:${smtp.port}`,
      "--mail-from",
      "a@example.org",
      "--mail-rcpt",
      "b@example.org",
      "--upload-file",
      file,
    ], (error, _stdout, stderr) => error ? reject(new Error(stderr || String(error))) : resolve())
  );
  assert.deepEqual(mailbox, [{
    from: "<a@example.org>",
    to: ["<b@example.org>"],
    body: ["Subject: over tls", "", "secret"],
  }]);
});

test("openssl s_client -starttls smtp verifies the certificate, and EHLO over TLS no longer offers STARTTLS", async () => {
  await using smtp = await smtpServer();
  const child = spawn("openssl", [
    "s_client",
    "-starttls",
    "smtp",
    "-connect",
    `127.0.0.1:${smtp.port}`,
    "-crlf",
    "-CAfile",
    pki.caFile,
    "-verify_return_error",
    "-verify_hostname",
    "localhost",
    "-brief",
  ]);
  let stdout = "";
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (/^221 /m.test(stdout)) child.stdin.end();
  });
  await new Promise<void>((resolve) =>
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      if (/Verification: OK/.test(stderr)) resolve();
    })
  );
  child.stdin.write("EHLO secure.example\nQUIT\n");
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /^250 hello secure\.example\r?$/m, "one line: no STARTTLS once secure");
  assert.match(stdout, /^221 2\.0\.0 bye\r?$/m);
});

test("plain text pipelined behind STARTTLS is dropped, not read as if it came over TLS", async () => {
  await using smtp = await smtpServer();
  const tcp = await runtimeTransport();
  const conn = await tcp.connect({ port: smtp.port });
  const lines = new LineReader(conn);
  assert.equal(await lines.next(), "220 wireframe ESMTP ready");
  // The CVE-2011-0411 pattern: a command injected behind STARTTLS in the same packet.
  await write(conn, "EHLO a\r\nSTARTTLS\r\nMAIL FROM:<injected@example.org>\r\n");
  assert.equal(await lines.next(), "250-hello a");
  assert.equal(await lines.next(), "250 STARTTLS");
  assert.equal(await lines.next(), "220 2.0.0 ready to start TLS");
  lines.release();
  const secure = await startTls(conn, { role: "client", ca: pki.ca, serverName: "localhost" });
  const secureLines = new LineReader(secure);
  await write(secure, "EHLO b\r\nRCPT TO:<b@example.org>\r\nQUIT\r\n");
  assert.equal(await secureLines.next(), "250 hello b");
  assert.equal(await secureLines.next(), "503 5.5.1 MAIL first", "the injected MAIL was dropped");
  assert.equal(await secureLines.next(), "221 2.0.0 bye");
  secure.close();
});

async function write(conn: Connection, text: string): Promise<void> {
  const writer = conn.writable.getWriter();
  await writer.write(new TextEncoder().encode(text));
  writer.releaseLock();
}

/** CRLF lines off a connection; `release()` gives the stream back (nothing may be left over). */
class LineReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #text = "";
  constructor(conn: Connection) {
    this.#reader = conn.readable.getReader();
  }
  async next(): Promise<string | undefined> {
    while (!this.#text.includes("\r\n")) {
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#text += new TextDecoder().decode(value);
    }
    const end = this.#text.indexOf("\r\n");
    const line = this.#text.slice(0, end);
    this.#text = this.#text.slice(end + 2);
    return line;
  }
  release(): void {
    assert.equal(this.#text, "", "the server said nothing after its 220");
    this.#reader.releaseLock();
  }
}

test("a client that answers 220 with garbage instead of a handshake loses only its own connection", async () => {
  await using smtp = await smtpServer();
  const tcp = await runtimeTransport();
  const bad = await tcp.connect({ port: smtp.port });
  const lines = new LineReader(bad);
  await lines.next(); // 220 greeting
  await write(bad, "EHLO a\r\nSTARTTLS\r\n");
  await lines.next();
  await lines.next();
  assert.equal(await lines.next(), "220 2.0.0 ready to start TLS");
  await write(bad, "this is not a ClientHello\r\n");
  assert.equal(await lines.next().catch(() => undefined), undefined, "the server hangs up");
  bad.close();
  // The server carries on: a new client gets its greeting and upgrades.
  const good = await tcp.connect({ port: smtp.port });
  const goodLines = new LineReader(good);
  assert.equal(await goodLines.next(), "220 wireframe ESMTP ready");
  await write(good, "EHLO c\r\nSTARTTLS\r\n");
  await goodLines.next();
  await goodLines.next();
  assert.equal(await goodLines.next(), "220 2.0.0 ready to start TLS");
  goodLines.release();
  const secure = await startTls(good, { role: "client", ca: pki.ca, serverName: "localhost" });
  const secureLines = new LineReader(secure);
  await write(secure, "QUIT\r\n");
  assert.equal(await secureLines.next(), "221 2.0.0 bye");
  secure.close();
});

test("the SMTP example as a process with --starttls on: curl --ssl-reqd delivers through STARTTLS", async () => {
  const { startExample } = await import("./_process.ts");
  await using smtp = await startExample("smtp_server.ts", [
    "--starttls",
    "on",
    "--tls-cert",
    pki.certFile,
    "--tls-key",
    pki.keyFile,
  ]);
  const file = join(pki.dir, "process-mail.txt");
  writeFileSync(file, "Subject: from a process\r\n\r\nhi\r\n");
  const curl = (extra: string[]) =>
    new Promise<string>((resolve) =>
      execFile("curl", [
        "--silent",
        "--show-error",
        "--max-time",
        "20",
        "--cacert",
        pki.caFile,
        ...extra,
        `smtp://127.0.0.1:${smtp.port}`,
        "--mail-from",
        "a@example.org",
        "--mail-rcpt",
        "b@example.org",
        "--upload-file",
        file,
      ], (error, _stdout, stderr) => resolve(error ? stderr || String(error) : "ok"))
    );
  assert.equal(await curl(["--ssl-reqd"]), "ok");
  assert.equal(await smtp.terminate(), 0);
});
