/**
 * examples/mysql with the npm `mariadb` connector over TCP on 127.0.0.1:
 * query, prepared execute, batch, pipelined queries, LOCAL INFILE
 * (`permitLocalInfile`) and its refusal.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mariadb from "mariadb";
import { mysqlApp } from "../../examples/mysql/app.ts";
import { captureLogger, serve } from "../e2e/_helpers.ts";

async function server() {
  const { app } = mysqlApp({ password: "pw" });
  return await serve(app.logger(captureLogger().logger));
}

const options = (port: number) => ({
  host: "127.0.0.1",
  port,
  user: "root",
  password: "pw",
  database: "test",
});

test("mariadb connector: query, execute, batch and pipelined queries", async () => {
  await using running = await server();
  const conn = await mariadb.createConnection(options(running.port));
  try {
    const rows = await conn.query("SELECT 1 AS one, 'x' AS s, @@version_comment AS c");
    assert.deepEqual(rows.map((r: object) => ({ ...r })), [{
      one: 1n,
      s: "x",
      c: "Wireframe MySQL-protocol example",
    }]);
    await conn.query("CREATE TABLE kv (k VARCHAR(10) PRIMARY KEY, v BIGINT)");
    const batch = await conn.batch("INSERT INTO kv VALUES (?, ?)", [["a", 1], ["b", 2], ["c", 3]]);
    const affected = Array.isArray(batch)
      ? batch.reduce((n: number, r: { affectedRows: number }) => n + r.affectedRows, 0)
      : batch.affectedRows;
    assert.equal(affected, 3);
    assert.deepEqual(
      (await conn.execute("SELECT v FROM kv WHERE k = ?", ["b"])).map((r: object) => ({ ...r })),
      [{ v: 2n }],
    );
    assert.deepEqual(
      (await conn.query("SELECT k FROM kv WHERE v = ?", [3])).map((r: object) => ({ ...r })),
      [{ k: "c" }],
    );
    // The connector pipelines these: three commands may arrive in one read.
    const answers = await Promise.all([1, 2, 3].map((n) => conn.query(`SELECT ${n} AS n`)));
    assert.deepEqual(answers.map((r) => r[0].n), [1n, 2n, 3n]);
    await assert.rejects(
      conn.query("SELECT * FROM missing"),
      (e: { errno: number }) => e.errno === 1146,
    );
    assert.equal((await conn.query("SELECT 4 AS n"))[0].n, 4n, "and carries on");
  } finally {
    await conn.end();
  }
});

test("mariadb connector: LOAD DATA LOCAL INFILE with permitLocalInfile, and a refused file", async () => {
  await using running = await server();
  const dir = mkdtempSync(join(tmpdir(), "wireframe-mysql-"));
  const file = join(dir, "rows.tsv");
  writeFileSync(file, "1\tone\n2\ttwo\n3\tthree\n4\tfour\n");
  const conn = await mariadb.createConnection({
    ...options(running.port),
    permitLocalInfile: true,
  });
  try {
    await conn.query("CREATE TABLE t (id INT, name TEXT)");
    const done = await conn.query(`LOAD DATA LOCAL INFILE '${file}' INTO TABLE t`);
    assert.equal(done.affectedRows, 4);
    const rows = await conn.query("SELECT name FROM t WHERE id = 4");
    assert.equal(rows[0].name, "four");
    // A file the connector cannot read: it sends the empty packet at once and
    // reports its own error (45022); the server's ERR for it is pinned in wire.test.ts.
    await assert.rejects(
      conn.query(`LOAD DATA LOCAL INFILE '${join(dir, "absent.tsv")}' INTO TABLE t`),
    );
    assert.equal((await conn.query("SELECT 1 AS ok"))[0].ok, 1n, "the connection carries on");
  } finally {
    await conn.end();
    rmSync(dir, { recursive: true, force: true });
  }
});
