/**
 * examples/mysql with the npm `mysql2` driver over TCP on 127.0.0.1: query,
 * execute() with placeholders, LOCAL INFILE through infileStreamFactory,
 * session-state changes on results, a streamed 1,000,000-row result, and a
 * bad password.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import mysql from "mysql2/promise";
import { createConnection } from "mysql2";
import { mysqlApp } from "../../examples/mysql/app.ts";
import { captureLogger, serve } from "../e2e/_helpers.ts";

async function server(password = "") {
  const { app } = mysqlApp({ password });
  return await serve(app.logger(captureLogger().logger));
}

test("mysql2: query, execute with placeholders, DDL, errors with real codes", async () => {
  await using running = await server("s3cret");
  const conn = await mysql.createConnection({
    host: "127.0.0.1",
    port: running.port,
    user: "root",
    password: "s3cret",
    database: "test",
  });
  try {
    const [rows] = await conn.query("SELECT 1 AS one, 'hi' AS s, NULL AS n, DATABASE() AS db");
    assert.deepEqual(rows, [{ one: 1, s: "hi", n: null, db: "test" }]);
    await conn.query("CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(20), score DOUBLE)");
    const [insert] = await conn.query(
      "INSERT INTO people VALUES (1, 'ada', 1.5), (2, 'bob', 2.25), (3, 'cy', NULL)",
    );
    assert.equal((insert as mysql.ResultSetHeader).affectedRows, 3);
    const [found] = await conn.execute("SELECT name, score FROM people WHERE id = ?", [2]);
    assert.deepEqual(found, [{ name: "bob", score: 2.25 }]);
    const [many] = await conn.execute("SELECT ? AS a, ? AS b, ? AS c", [5, "str", null]);
    assert.deepEqual(many, [{ a: 5, b: "str", c: null }]);
    await conn.execute("INSERT INTO people (id, name) VALUES (?, ?)", [4, "dee"]);
    const [all] = await conn.query("SELECT id FROM people");
    assert.deepEqual((all as { id: number }[]).map((r) => r.id), [1, 2, 3, 4]);
    const codes = async (sql: string) => {
      try {
        await conn.query(sql);
        return "no error";
      } catch (error) {
        const e = error as { errno: number; sqlState: string };
        return `${e.errno} ${e.sqlState}`;
      }
    };
    assert.equal(await codes("SELEKT 1"), "1064 42000");
    assert.equal(await codes("SELECT * FROM nope"), "1146 42S02");
    assert.equal(await codes("SELECT nope FROM people"), "1054 42S22");
    assert.equal(await codes("USE nope"), "1049 42000");
    assert.equal(await codes("INSERT INTO people VALUES (1, 'again', 0)"), "1062 23000");
    // Drivers prepare DDL and SET too: every statement of the subset can be prepared.
    await conn.execute("CREATE TABLE prepared (a BIGINT, b TEXT)");
    await conn.execute("SET @tag = ?", ["t1"]);
    await conn.execute("INSERT INTO prepared VALUES (?, @tag)", [2n ** 60n]);
    const [prepared] = await conn.execute("SELECT a, b FROM prepared WHERE b = ?", ["t1"]);
    assert.deepEqual(prepared, [{ a: 2 ** 60, b: "t1" }]);
    const [after] = await conn.query("SELECT 2 AS two");
    assert.deepEqual(after, [{ two: 2 }], "the connection carries on after errors");
  } finally {
    await conn.end();
  }
});

test("mysql2: no database selected is 1046; a bad password is ERR 1045 (28000)", async () => {
  await using running = await server("right");
  await assert.rejects(
    mysql.createConnection({
      host: "127.0.0.1",
      port: running.port,
      user: "root",
      password: "wrong",
    }),
    (error: { errno: number; sqlState: string }) =>
      error.errno === 1045 && error.sqlState === "28000",
  );
  const conn = await mysql.createConnection({
    host: "127.0.0.1",
    port: running.port,
    user: "root",
    password: "right",
  });
  try {
    await assert.rejects(conn.query("SHOW TABLES"), (e: { errno: number }) => e.errno === 1046);
  } finally {
    await conn.end();
  }
});

test("mysql2: LOAD DATA LOCAL INFILE through infileStreamFactory inserts the rows; session trackers on OK", async () => {
  await using running = await server();
  const file = Buffer.from("1,alpha\n2,beta\n3,gamma\n");
  const conn = await mysql.createConnection({
    host: "127.0.0.1",
    port: running.port,
    user: "root",
    database: "test",
    infileStreamFactory: () => Readable.from([file.subarray(0, 5), file.subarray(5)]),
  });
  try {
    await conn.query("CREATE TABLE words (id INT, word TEXT)");
    const [loaded] = await conn.query(
      "LOAD DATA LOCAL INFILE 'words.csv' INTO TABLE words FIELDS TERMINATED BY ','",
    );
    const header = loaded as mysql.ResultSetHeader;
    assert.equal(header.affectedRows, 3);
    assert.match(header.info, /Records: 3 {2}Deleted: 0 {2}Skipped: 0 {2}Warnings: 0/);
    const [rows] = await conn.execute("SELECT word FROM words WHERE id = ?", [3]);
    assert.deepEqual(rows, [{ word: "gamma" }]);

    const [set] = await conn.query("SET autocommit = 0");
    const changes = (set as unknown as { stateChanges: { systemVariables: object } }).stateChanges;
    assert.deepEqual(changes.systemVariables, { autocommit: "OFF" });
    const [names] = await conn.query("SET NAMES 'latin1'");
    assert.deepEqual(
      (names as unknown as { stateChanges: { systemVariables: object } }).stateChanges
        .systemVariables,
      {
        character_set_client: "latin1",
        character_set_connection: "latin1",
        character_set_results: "latin1",
      },
    );
    const [quiet] = await conn.query("SET @v = 1");
    assert.equal((quiet as mysql.ResultSetHeader).serverStatus & 0x4000, 0, "no change tracked");
    await conn.query("SET session_track_state_change = ON");
    const [tracked] = await conn.query("SET @v = 'two'");
    const state = (tracked as unknown as { stateChanges: { trackStateChange: unknown } })
      .stateChanges.trackStateChange;
    assert.equal(state, "1", "a state change (type 2) once tracking is on");
    const [v] = await conn.query("SELECT @v AS v");
    assert.deepEqual(v, [{ v: "two" }]);
    await conn.query("CREATE DATABASE other");
    const [use] = await conn.query("USE other");
    assert.equal(
      (use as unknown as { stateChanges: { schema: string } }).stateChanges.schema,
      "other",
    );
  } finally {
    await conn.end();
  }
});

test("mysql2: a streamed 1,000,000-row seq_1_to_1000000 arrives whole and in order", async () => {
  await using running = await server();
  const conn = createConnection({ host: "127.0.0.1", port: running.port, user: "root" });
  try {
    let count = 0, sum = 0, ordered = true;
    const rows = conn.query("SELECT seq FROM seq_1_to_1000000").stream();
    for await (const row of rows as AsyncIterable<{ seq: number }>) {
      count++;
      if (row.seq !== count) ordered = false;
      sum += row.seq;
    }
    assert.equal(count, 1_000_000);
    assert.ok(ordered);
    assert.equal(sum, 1_000_000 * 1_000_001 / 2);
  } finally {
    await new Promise<void>((resolve) => conn.end(() => resolve()));
  }
});

test("mysql2: a 40 MiB value goes in (execute) and comes back (query) across 0xFFFFFF packets", async () => {
  await using running = await server();
  const conn = await mysql.createConnection({
    host: "127.0.0.1",
    port: running.port,
    user: "root",
    database: "test",
  });
  try {
    await conn.query("CREATE TABLE blobs (id INT, body LONGTEXT)");
    const body = "x".repeat(40 * 1024 * 1024 - 7) + "the end";
    await conn.execute("INSERT INTO blobs VALUES (?, ?)", [1, body]);
    const [rows] = await conn.query("SELECT body FROM blobs WHERE id = 1");
    const got = (rows as { body: string }[])[0]!.body;
    assert.equal(got.length, body.length);
    assert.ok(got.endsWith("the end"));
  } finally {
    await conn.end();
  }
});
