/**
 * examples/mysql over MySQL's own TLS: the greeting offers CLIENT_SSL, the
 * client's SSLRequest upgrades the connection in place
 * (`ctx.upgradeTls({ pipelined: "keep" })`: its ClientHello comes right
 * behind), and the login continues over TLS. The server requires secure
 * transport, so a login that succeeds went over TLS (a plain one gets ERR
 * 3159); the clients check the certificate against the test's CA. Clients
 * nobody here wrote: Debian's `mariadb` CLI, mysql2, the MariaDB connector.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import mysql from "mysql2/promise";
import mariadb from "mariadb";
import { mysqlApp } from "../../examples/mysql/app.ts";
import { WireframeServer } from "../../src/server/server.ts";
import { makeTestPki } from "../_tls/certs.ts";
import { captureLogger } from "../e2e/_helpers.ts";
import { startExample } from "../e2e/_process.ts";

const pki = makeTestPki();
after(() => pki.remove());

async function server() {
  const { app } = mysqlApp({ password: "pw", tls: true, requireSecureTransport: true });
  const server = new WireframeServer(app.logger(captureLogger().logger));
  const { port } = await server.listen({
    hostname: "127.0.0.1",
    port: 0,
    startTls: { cert: pki.cert, key: pki.key },
  });
  return { port, [Symbol.asyncDispose]: () => server.shutdown({ timeoutMs: 1_000 }) };
}

function mariadbCli(port: number, args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "mariadb",
      ["--protocol=TCP", "-h", "127.0.0.1", "-P", String(port), "-u", "root", "-ppw", ...args],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

test("mariadb CLI: --ssl with the CA and --ssl-verify-server-cert logs in over TLS and queries; without TLS the server refuses with ERR 3159", async () => {
  await using running = await server();
  const secure = await mariadbCli(running.port, [
    "--ssl",
    `--ssl-ca=${pki.caFile}`,
    "--ssl-verify-server-cert",
    "test",
    "-e",
    "CREATE TABLE t (id INT); INSERT INTO t VALUES (7); SELECT id FROM t",
  ]);
  assert.equal(secure.code, 0, secure.stderr);
  assert.equal(secure.stdout, "id\n7\n");
  const plain = await mariadbCli(running.port, ["--skip-ssl", "test", "-e", "SELECT 1"]);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /3159/);
});

test("mysql2 with ssl: { ca } upgrades with SSLRequest: its socket is TLS, and queries run over it", async () => {
  await using running = await server();
  const conn = await mysql.createConnection({
    host: "127.0.0.1",
    port: running.port,
    user: "root",
    password: "pw",
    database: "test",
    ssl: { ca: pki.ca },
  });
  try {
    const [rows] = await conn.query("SELECT 1 AS one");
    assert.deepEqual(rows, [{ one: 1 }]);
    // deno-lint-ignore no-explicit-any
    const stream = (conn as any).connection.stream;
    assert.equal(stream.encrypted, true);
    assert.match(stream.getProtocol(), /^TLSv1\.[23]$/);
  } finally {
    await conn.end();
  }
  await assert.rejects(
    mysql.createConnection({ host: "127.0.0.1", port: running.port, user: "root", password: "pw" }),
    (err: { errno?: number }) => err.errno === 3159,
  );
});

test("MariaDB connector with ssl: { ca } logs in over TLS (the server requires it) and queries", async () => {
  await using running = await server();
  const conn = await mariadb.createConnection({
    host: "127.0.0.1",
    port: running.port,
    user: "root",
    password: "pw",
    database: "test",
    ssl: { ca: pki.ca },
  });
  try {
    const rows = await conn.query("SELECT 2 AS two");
    assert.deepEqual(rows.map((r: object) => ({ ...r })), [{ two: 2n }]);
  } finally {
    await conn.end();
  }
});

test("the example as a process with --tls-cert/--tls-key and --require-secure-transport on serves mariadb --ssl on its plain port, and refuses a plain login", async () => {
  await using example = await startExample("mysql/server.ts", [
    "--password",
    "pw",
    "--tls-cert",
    pki.certFile,
    "--tls-key",
    pki.keyFile,
    "--require-secure-transport",
    "on",
  ]);
  const secure = await mariadbCli(example.port, [
    "--ssl",
    `--ssl-ca=${pki.caFile}`,
    "--ssl-verify-server-cert",
    "-e",
    "SELECT 1 AS one",
  ]);
  assert.equal(secure.code, 0, secure.stderr);
  assert.equal(secure.stdout, "one\n1\n");
  const plain = await mariadbCli(example.port, ["--skip-ssl", "-e", "SELECT 1"]);
  assert.match(plain.stderr, /3159/);
  assert.equal(await example.terminate(), 0);
});
