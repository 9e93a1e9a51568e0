/**
 * The layout rules of STYLE.md, checked on the import graph of src/: data
 * flows one way (nothing imports from a layer above it) and there are no
 * import loops.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = normalize(join(dirname(fileURLToPath(import.meta.url)), ".."));
const src = join(root, "src");

/**
 * Layers, lowest first; a file may import from its own layer or below. Within
 * a layer, folders may import each other only where listed in SIDEWAYS.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["error.ts"],
  ["_internal"],
  ["codec", "fragment", "transport", "observe"],
  ["wire", "push", "response.ts"],
  ["app", "session"],
  ["connection", "client", "cluster"],
  ["server"],
];

/** Imports between folders of one layer that are allowed (importer → imported). */
const SIDEWAYS = new Set([
  "app→session", // WireframeApp.sessions(registry) keeps the registry it is given
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Relative imports of a file's code (not of its doc comments). */
function importsOf(file: string): string[] {
  const code = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const match of code.matchAll(/^(?:import|export)(?:[^"';]*?from)?\s*"(\.[^"]+)"/gm)) {
    found.push(normalize(join(dirname(file), match[1]!)));
  }
  return found;
}

/** The folder (or root file) of src/ that `file` belongs to. */
function areaOf(file: string): string {
  return relative(src, file).split("/")[0]!;
}

function layerOf(area: string): number {
  const layer = LAYERS.findIndex((areas) => areas.includes(area));
  assert.notEqual(layer, -1, `src/${area} is in no layer of tests/layout.test.ts`);
  return layer;
}

const graph = new Map(sourceFiles(src).map((file) => [file, importsOf(file)]));

test("nothing in src/ imports from a layer above its own", () => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    const from = areaOf(file);
    for (const imported of imports) {
      const to = areaOf(imported);
      if (from === to) continue;
      const [a, b] = [layerOf(from), layerOf(to)];
      if (b > a || (b === a && !SIDEWAYS.has(`${from}→${to}`))) {
        upward.push(`${relative(root, file)} → ${relative(root, imported)}`);
      }
    }
  }
  assert.deepEqual(upward, []);
});

test("src/ has no import loops", () => {
  const loops: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") {
      const loop = path.slice(path.indexOf(file));
      loops.push([...loop, file].map((f) => relative(src, f)).join(" → "));
      return;
    }
    state.set(file, "visiting");
    for (const imported of graph.get(file) ?? []) visit(imported, [...path, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(loops, []);
});

test("every import in src/ names a file that exists", () => {
  const missing = [...graph].flatMap(([file, imports]) =>
    imports.filter((imported) => !graph.has(imported)).map((imported) =>
      `${relative(root, file)} → ${relative(root, imported)}`
    )
  );
  assert.deepEqual(missing, []);
});
