/**
 * examples/mysql with Python's drivers from Debian (python3-pymysql, pure
 * Python; python3-mysqldb, on libmariadb): connect (with what each sends on
 * connect), parameterised queries, LOCAL INFILE, autocommit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mysqlApp } from "../../examples/mysql/app.ts";
import { captureLogger, serve } from "../e2e/_helpers.ts";

const SCRIPT = `
import sys, pymysql, MySQLdb
port, path = int(sys.argv[1]), sys.argv[2]
c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="pw", database="test", local_infile=True)
cur = c.cursor()
cur.execute("SELECT 1, 'a', NULL, DATABASE()"); print("pymysql", cur.fetchall())
cur.execute("CREATE TABLE py (id INT, name VARCHAR(10))")
cur.execute("INSERT INTO py VALUES (%s, %s)", (1, "x")); c.commit()
cur.execute("SELECT name FROM py WHERE id = %s", (1,)); print("pymysql", cur.fetchall())
cur.execute("LOAD DATA LOCAL INFILE '" + path + "' INTO TABLE py"); print("pymysql load", cur.rowcount)
c.close()
m = MySQLdb.connect(host="127.0.0.1", port=port, user="root", passwd="pw", db="test", charset="utf8mb4")
m.autocommit(True)
cur = m.cursor()
cur.execute("SELECT id, name FROM py"); print("mysqldb", cur.fetchall())
cur.execute("SELECT @@autocommit"); print("mysqldb", cur.fetchall())
m.close()
`;

test("Python: PyMySQL and mysqlclient (MySQLdb) connect, query with parameters, LOAD DATA LOCAL INFILE", async () => {
  const { app } = mysqlApp({ password: "pw" });
  await using running = await serve(app.logger(captureLogger().logger));
  const dir = mkdtempSync(join(tmpdir(), "wireframe-mysql-py-"));
  try {
    const file = join(dir, "rows.tsv");
    writeFileSync(file, "2\ty\n3\tz\n");
    const { code, stdout, stderr } = await new Promise<
      { code: number; stdout: string; stderr: string }
    >(
      (resolve) =>
        // Debian's python3 (the apt packages install there), not one earlier on PATH.
        execFile("/usr/bin/python3", ["-c", SCRIPT, String(running.port), file], {
          timeout: 30_000,
        }, (
          error,
          out,
          err,
        ) => resolve({ code: error ? 1 : 0, stdout: String(out), stderr: String(err) })),
    );
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      [
        "pymysql ((1, 'a', None, 'test'),)",
        "pymysql (('x',),)",
        "pymysql load 2",
        "mysqldb ((1, 'x'), (2, 'y'), (3, 'z'))",
        "mysqldb ((1,),)",
        "",
      ].join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
