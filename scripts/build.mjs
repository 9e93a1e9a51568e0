#!/usr/bin/env node
// Builds the npm package into dist/: ESM JavaScript and .d.ts for mod.ts, src/,
// examples/ and bin/ (tsc, types stripped; `deno check` is what type-checks the
// sources, in .ci/run), a package.json whose exports point at them, and the
// README, LICENSE and CHANGELOG. Node.js will not strip types under
// node_modules, so an installed package must be JavaScript.
// Usage: node scripts/build.mjs [--pack DIR]   (--pack: npm pack dist/ into DIR,
// printing the tarball's path on the last line)
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

rmSync(dist, { recursive: true, force: true });
execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});

/** "./src/x.ts" → "./src/x" */
const stem = (path) => path.replace(/\.ts$/, "");
const exports = Object.fromEntries(
  Object.entries(manifest.exports).map(([subpath, source]) => [
    subpath,
    { types: `${stem(source)}.d.ts`, default: `${stem(source)}.js` },
  ]),
);
const bin = Object.fromEntries(
  Object.entries(manifest.bin).map(([name, source]) => [name, `${stem(source)}.js`]),
);
const published = {
  name: manifest.name,
  version: manifest.version,
  description: manifest.description,
  license: manifest.license,
  type: "module",
  exports,
  bin,
  // The floor: type stripping on by default (Node 22.18; the package itself is JavaScript, but
  // the README's floor is what is tested); the root package.json's engines is the dev tools'
  // bootstrap (Node 20).
  engines: { node: ">=22.18" },
  dependencies: manifest.dependencies,
  // @redis/client: optional, only RedisBus (./cluster) loads it.
  peerDependencies: manifest.peerDependencies,
  peerDependenciesMeta: manifest.peerDependenciesMeta,
};
writeFileSync(join(dist, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
for (const file of ["README.md", "LICENSE", "CHANGELOG.md"]) {
  copyFileSync(join(root, file), join(dist, file));
}
for (const path of Object.values(bin)) chmodSync(join(dist, path), 0o755);

const packAt = process.argv.indexOf("--pack");
if (packAt !== -1) {
  const into = resolve(process.argv[packAt + 1] ?? ".");
  mkdirSync(into, { recursive: true });
  const out = execFileSync("npm", ["pack", "--pack-destination", into, "--silent"], {
    cwd: dist,
    encoding: "utf8",
  });
  console.log(join(into, out.trim().split("\n").at(-1)));
}
