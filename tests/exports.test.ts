/**
 * The package's entry points are declared in three files that must agree:
 * package.json (npm, Bun, Node), jsr.json (JSR) and deno.json (its exports,
 * and the import map the docs' examples resolve `@wireframe/wireframe/...` by).
 * Every one names a file that exists, and the npm build's bin does too.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (file: string) => JSON.parse(readFileSync(join(root, file), "utf8"));
const pkg = read("package.json") as {
  name: string;
  exports: Record<string, string>;
  bin: Record<string, string>;
};
const jsr = read("jsr.json") as { name: string; exports: Record<string, string> };
const deno = read("deno.json") as {
  name: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
};

test("package.json, jsr.json and deno.json export the same subpaths, to the same files", () => {
  assert.deepEqual(jsr.exports, pkg.exports);
  assert.deepEqual(deno.exports, pkg.exports);
  assert.equal(jsr.name, pkg.name);
  assert.equal(deno.name, pkg.name);
});

test("deno.json maps every export under the package's name, and nothing else of it", () => {
  const mapped = Object.fromEntries(
    Object.entries(deno.imports).filter(([name]) =>
      name === pkg.name || name.startsWith(`${pkg.name}/`)
    ),
  );
  const expected = Object.fromEntries(
    Object.entries(pkg.exports).map(([subpath, file]) => [
      subpath === "." ? pkg.name : `${pkg.name}${subpath.slice(1)}`,
      file,
    ]),
  );
  assert.deepEqual(mapped, expected);
});

test("every export and the wireframe-ts bin name a file that exists, among them ./node", () => {
  assert.ok("./node" in pkg.exports);
  for (const file of [...Object.values(pkg.exports), ...Object.values(pkg.bin)]) {
    assert.ok(existsSync(join(root, file)), `${file} exists`);
  }
  assert.equal(pkg.bin["wireframe-ts"], "./bin/wireframe_ts.ts");
});
