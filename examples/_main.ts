/**
 * `isMain(import.meta)`: whether this module is the program's entry point, as `import.meta.main`
 * says on Deno, Bun and Node.js ≥ 24.2. Node.js 22 has no `import.meta.main`; there the entry is
 * the script named by `process.argv[1]` (through any symlink, as `node_modules/.bin` has).
 *
 * @module
 */
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** True when the module whose `import.meta` this is was run directly, not imported. */
export function isMain(meta: ImportMeta): boolean {
  const main: unknown = (meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const entry = process.argv[1];
  if (entry === undefined || !meta.url.startsWith("file:")) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(meta.url));
  } catch {
    return false;
  }
}
