/**
 * The example's SQL engine on its own (no socket): the subset of the README,
 * what common drivers send on connect, the errors with MySQL's codes, and
 * the lazy `seq_1_to_N` tables.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Catalog, Engine, type Result, Session } from "../../examples/mysql/engine.ts";
import type { SqlValue } from "../../examples/mysql/packets.ts";
import { SqlError } from "../../examples/mysql/sql_error.ts";
import { parse } from "../../examples/mysql/sql_parser.ts";

function setup() {
  const engine = new Engine(new Catalog(["test"]));
  const session = new Session(7, "root");
  const run = (sql: string, params: SqlValue[] = []): Result =>
    engine.execute(session, parse(sql).statement, params);
  const rows = (sql: string, params: SqlValue[] = []) => {
    const result = run(sql, params);
    assert.equal(result.kind, "rows", sql);
    return [...(result as Extract<Result, { kind: "rows" }>).rows];
  };
  const names = (sql: string) =>
    (run(sql) as Extract<Result, { kind: "rows" }>).columns.map((c) => c.name);
  const code = (sql: string) => {
    try {
      run(sql);
      return "ok";
    } catch (error) {
      assert.ok(error instanceof SqlError, String(error));
      return `${error.code} ${error.sqlState}`;
    }
  };
  return { engine, session, run, rows, names, code };
}

test("SELECT of literals, variables and functions, with aliases and LIMIT", () => {
  const { rows, names, run } = setup();
  assert.deepEqual(rows("SELECT 1, 'a', NULL, -2.5, TRUE"), [[1, "a", null, -2.5, 1]]);
  assert.deepEqual(names("SELECT 1, 'a' AS x, @@version_comment, 2 two"), [
    "1",
    "x",
    "@@version_comment",
    "two",
  ]);
  assert.deepEqual(rows("SELECT DATABASE(), CONNECTION_ID(), @@session.autocommit"), [[
    null,
    7,
    1,
  ]]);
  assert.match(String(rows("SELECT VERSION()")[0]![0]), /wireframe/);
  assert.deepEqual(rows("select @@version_comment limit 1").length, 1);
  assert.deepEqual(rows("SELECT 1 LIMIT 0"), []);
  run("SET @v = 'x'");
  assert.deepEqual(rows("SELECT @v, @unset"), [["x", null]]);
  assert.deepEqual(rows("SELECT ? AS a, ? AS b", [5, "s"]), [[5, "s"]]);
  assert.deepEqual(rows("SELECT CONCAT('a', 1, @v)"), [["a1x"]]);
});

test("tables: CREATE, INSERT, SELECT with WHERE … AND and LIMIT, DELETE, DROP; names case-insensitive", () => {
  const { rows, run, code } = setup();
  run("USE test");
  run("CREATE TABLE People (id INT PRIMARY KEY, Name VARCHAR(5), score DOUBLE, bio TEXT)");
  const insert = run("insert into people values (1, 'ada', 1.5, NULL), (2, 'bob', 2, 'x')");
  assert.equal(insert.kind === "ok" && insert.affectedRows, 2);
  run("INSERT INTO PEOPLE (id, name) VALUES (3, 'cy')");
  assert.deepEqual(rows("SELECT name FROM people WHERE score = 2 AND id = 2"), [["bob"]]);
  assert.deepEqual(rows("SELECT * FROM people WHERE ID = 3"), [[3, "cy", null, null]]);
  assert.deepEqual(rows("SELECT id FROM people LIMIT 1, 1"), [[2]]);
  assert.deepEqual(rows("SHOW TABLES"), [["People"]]);
  assert.equal(code("INSERT INTO people VALUES (1, 'dup', 0, '')"), "1062 23000");
  assert.equal(code("INSERT INTO people (id, name) VALUES (9, 'toolong')"), "1406 22001");
  assert.equal(code("INSERT INTO people (id) VALUES ('x')"), "1366 22007");
  assert.equal(code("INSERT INTO people (id, name) VALUES (1)"), "1136 21S01");
  assert.equal(code("SELECT nope FROM people"), "1054 42S22");
  assert.equal(code("SELECT id FROM people WHERE nope = 1"), "1054 42S22");
  assert.equal(code("SELECT * FROM missing"), "1146 42S02");
  assert.equal(code("CREATE TABLE people (a INT)"), "1050 42S01");
  const deleted = run("DELETE FROM people WHERE id = 1");
  assert.equal(deleted.kind === "ok" && deleted.affectedRows, 1);
  run("DELETE FROM people");
  assert.deepEqual(rows("SELECT * FROM people"), []);
  run("DROP TABLE people");
  assert.equal(code("DROP TABLE people"), "1051 42S02");
  run("DROP TABLE IF EXISTS people");
});

test("databases: CREATE DATABASE, USE, SHOW DATABASES, and the errors without one", () => {
  const { rows, run, code, session } = setup();
  assert.equal(code("SHOW TABLES"), "1046 3D000");
  assert.equal(code("CREATE TABLE t (a INT)"), "1046 3D000");
  assert.equal(code("USE nope"), "1049 42000");
  run("CREATE DATABASE shop");
  assert.equal(code("CREATE DATABASE shop"), "1007 HY000");
  run("CREATE DATABASE IF NOT EXISTS shop");
  run("USE shop");
  assert.equal(session.database, "shop");
  assert.deepEqual(rows("SHOW DATABASES"), [["shop"], ["test"]]);
  run("CREATE TABLE test.t (a BIGINT)");
  run("INSERT INTO test.t VALUES (9007199254740993)");
  assert.deepEqual(rows("SELECT a FROM test.t"), [[9007199254740993n]]);
});

test("SET forms, trackers, transactions and status flags", () => {
  const { rows, run, code, session } = setup();
  run("SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'");
  assert.deepEqual(session.takeChanges(), [], "the character sets did not change");
  run("SET NAMES latin1");
  assert.deepEqual(session.takeChanges().map((c) => c.type === 0 && c.name), [
    "character_set_client",
    "character_set_connection",
    "character_set_results",
  ]);
  run("SET SESSION autocommit = OFF, @@session.time_zone = '+00:00'");
  assert.deepEqual(session.takeChanges(), [
    { type: 0, name: "autocommit", value: "OFF" },
    { type: 0, name: "time_zone", value: "+00:00" },
  ]);
  assert.equal(session.status & 2, 0, "no SERVER_STATUS_AUTOCOMMIT");
  run("SET autocommit = 1");
  run("BEGIN");
  assert.equal(session.status & 1, 1, "SERVER_STATUS_IN_TRANS");
  run("COMMIT");
  assert.equal(session.status & 1, 0);
  run("START TRANSACTION");
  run("ROLLBACK");
  assert.equal(session.status, 2);
  session.takeChanges();
  run("SET @x = 1");
  assert.deepEqual(session.takeChanges(), [], "no state-change tracking by default");
  run("SET session_track_state_change = ON");
  session.takeChanges();
  run("SET @x = 2");
  assert.deepEqual(session.takeChanges(), [{ type: 2 }]);
  run("USE test");
  assert.deepEqual(session.takeChanges(), [{ type: 1, schema: "test" }, { type: 2 }]);
  assert.equal(code("SET nope = 1"), "1193 HY000");
  assert.equal(code("SELECT @@nope"), "1193 HY000");
  assert.equal(code("SET autocommit = 'maybe'"), "1231 42000");
  assert.deepEqual(rows("SHOW VARIABLES LIKE 'time_z%'"), [["time_zone", "+00:00"]]);
});

test("what common drivers send on connect is accepted", () => {
  const { run } = setup();
  for (
    const sql of [
      // MySQL Connector/J 8
      "/* mysql-connector-j-8.0.33 */SELECT @@session.auto_increment_increment AS auto_increment_increment, " +
      "@@character_set_client AS character_set_client, @@character_set_connection AS character_set_connection, " +
      "@@character_set_results AS character_set_results, @@character_set_server AS character_set_server, " +
      "@@collation_server AS collation_server, @@collation_connection AS collation_connection, " +
      "@@init_connect AS init_connect, @@interactive_timeout AS interactive_timeout, @@license AS license, " +
      "@@lower_case_table_names AS lower_case_table_names, @@max_allowed_packet AS max_allowed_packet, " +
      "@@net_write_timeout AS net_write_timeout, @@performance_schema AS performance_schema, " +
      "@@sql_mode AS sql_mode, @@system_time_zone AS system_time_zone, @@time_zone AS time_zone, " +
      "@@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout",
      "SET character_set_results = NULL",
      "SET autocommit=1",
      // MariaDB Connector/J 3
      "set autocommit=1,sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES'),session_track_schema=1," +
      "session_track_system_variables = concat(@@global.session_track_system_variables,',auto_increment_increment')",
      "SELECT @@max_allowed_packet,@@wait_timeout",
      // Go (go-sql-driver/mysql), Python (mysql-connector, PyMySQL, mysqlclient), the mysql CLI
      "SELECT @@max_allowed_packet",
      "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci'",
      "SET @@session.autocommit = OFF",
      "SET AUTOCOMMIT = 0",
      "SET NAMES utf8mb4",
      "select @@version_comment limit 1",
      "SELECT CONNECTION_ID(), VERSION()",
      "SET SESSION TRANSACTION_ISOLATION = 'READ-COMMITTED'",
    ]
  ) assert.doesNotThrow(() => run(sql), sql);
});

test("anything outside the subset is 1064 (42000)", () => {
  const { code } = setup();
  for (
    const sql of [
      "SELEKT 1",
      "SELECT 1 + 1",
      "SELECT COUNT(*) FROM t",
      "SELECT * FROM t ORDER BY a",
      "UPDATE t SET a = 1",
      "SELECT 'unterminated",
      "SELECT 1; SELECT 2",
      "LOAD DATA INFILE 'x' INTO TABLE t",
      "",
    ]
  ) assert.equal(code(sql), "1064 42000", sql);
  assert.equal(code("SELECT ?"), "ok", "a placeholder parses (COM_QUERY refuses it itself)");
});

test("seq_1_to_N is generated lazily: a trillion-row table with LIMIT answers at once", () => {
  const { rows } = setup();
  assert.deepEqual(rows("SELECT seq FROM seq_1_to_1000000000000 LIMIT 3"), [[1], [2], [3]]);
  assert.deepEqual(rows("SELECT * FROM seq_10_to_1_step_4"), [[10], [6], [2]]);
  assert.deepEqual(rows("SELECT seq AS n FROM seq_1_to_100 WHERE seq = 42"), [[42]]);
});

test("LOAD DATA inserts the file's rows as its pieces arrive; short rows and bad values are warnings", () => {
  const { run, rows } = setup();
  run("CREATE TABLE test.t (id INT, name TEXT)");
  const request = run(
    "LOAD DATA LOCAL INFILE 'f' INTO TABLE test.t FIELDS TERMINATED BY ',' LINES TERMINATED BY ';' IGNORE 1 LINES",
  );
  assert.equal(request.kind, "load-data");
  const loader = (request as Extract<Result, { kind: "load-data" }>).loader();
  for (const piece of ["id,na", "me;1,a;2", ";x,c;3,\\N"]) loader.push(piece); // split anywhere
  const done = loader.end(); // the last record has no terminator
  assert.deepEqual(
    [done.affectedRows, done.warnings, done.info],
    [3, 2, "Records: 4  Deleted: 0  Skipped: 1  Warnings: 2"],
  );
  assert.deepEqual(rows("SELECT * FROM test.t"), [[1, "a"], [2, null], [3, null]]);
});
