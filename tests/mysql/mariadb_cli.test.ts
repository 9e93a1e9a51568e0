/**
 * examples/mysql with Debian's `mariadb` command line client (package
 * mariadb-client): `-e` scripts, `USE`, `--local-infile=1`, and the error a
 * client without it gets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mysqlApp } from "../../examples/mysql/app.ts";
import { captureLogger, serve } from "../e2e/_helpers.ts";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function mariadb(port: number, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
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

async function server() {
  const { app } = mysqlApp({ password: "pw" });
  return await serve(app.logger(captureLogger().logger));
}

test("mariadb CLI: an -e script with DDL, USE, inserts, selects and SHOW", async () => {
  await using running = await server();
  const run = await mariadb(running.port, [
    "test",
    "-e",
    "CREATE DATABASE shop; USE shop; CREATE TABLE items (id INT, name VARCHAR(20)); " +
    "INSERT INTO items VALUES (1, 'pen'), (2, 'ink'); SELECT name FROM items WHERE id = 2; " +
    "SHOW TABLES; SELECT DATABASE(), @@autocommit, 1 + 0 IS NULL",
  ]);
  // The last statement is outside the subset: 1064, after the others ran.
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /ERROR 1064 \(42000\)/);
  assert.equal(run.stdout, "name\nink\nTables_in_shop\nitems\n");
  const fine = await mariadb(running.port, [
    "shop",
    "-e",
    "SELECT DATABASE() AS db, @@autocommit AS ac; SHOW DATABASES",
  ]);
  assert.equal(fine.code, 0, fine.stderr);
  assert.equal(fine.stdout, "db\tac\nshop\t1\nDatabase\nshop\ntest\n");
});

test("mariadb CLI: LOAD DATA LOCAL INFILE with --local-infile=1; without it the server refuses with ERR 1148", async () => {
  await using running = await server();
  const dir = mkdtempSync(join(tmpdir(), "wireframe-mysql-cli-"));
  try {
    const file = join(dir, "rows.csv");
    writeFileSync(file, "1;red\n2;green\n3;blue\n");
    const load = `LOAD DATA LOCAL INFILE '${file}' INTO TABLE colors FIELDS TERMINATED BY ';'`;
    const run = await mariadb(running.port, [
      "--local-infile=1",
      "test",
      "-e",
      `CREATE TABLE colors (id INT, name TEXT); ${load}; SELECT name FROM colors WHERE id = 3`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "name\nblue\n");
    const refused = await mariadb(running.port, ["--local-infile=0", "test", "-e", load]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ERROR 1148 \(42000\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mariadb CLI: a wrong password is ERROR 1045 (28000)", async () => {
  await using running = await server();
  const run = await new Promise<Run>((resolve) => {
    execFile(
      "mariadb",
      [
        "--protocol=TCP",
        "-h",
        "127.0.0.1",
        "-P",
        String(running.port),
        "-u",
        "root",
        "-pnope",
        "-e",
        "SELECT 1",
      ],
      { timeout: 20_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? 1 : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /ERROR 1045 \(28000\): Access denied for user 'root'/);
});
