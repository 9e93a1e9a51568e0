/**
 * One way to declare a micro-benchmark for two runners: `deno bench` (the
 * definition goes to `Deno.bench`) and mitata on Deno, Bun or Node.js
 * (bench/mitata.ts collects the definitions and runs them), so every table
 * of a `*_bench.ts` file can be reproduced on each runtime.
 *
 * @module
 */
import { bench as mitataBench, group as mitataGroup, run, summary } from "mitata";

/** A benchmark, in the shape of `Deno.bench`'s definition (the part we use). */
export interface BenchDefinition {
  /** What is measured. */
  name: string;
  /** Benchmarks compared with each other; the baseline is the one they are compared to. */
  group?: string;
  /** Whether this is its group's baseline. */
  baseline?: boolean;
  /** One iteration. */
  fn: () => void | Promise<void>;
}

/** Collected instead of registered with Deno.bench once bench/mitata.ts asked for it. */
let collected: BenchDefinition[] | undefined;

/** Register a benchmark with `Deno.bench`, or collect it for mitata (see {@link collectForMitata}). */
export function bench(definition: BenchDefinition): void {
  if (collected !== undefined) collected.push(definition);
  else if ("Deno" in globalThis) Deno.bench(definition);
  else {
    throw new Error("a *_bench.ts file runs under `deno bench`, or under bench/mitata.ts");
  }
}

/** From now on, {@link bench} collects; call before importing the bench files. */
export function collectForMitata(): void {
  collected ??= [];
}

/** Run what was collected under mitata, one summary table per group; `short` samples less. */
export async function runCollected(options: { short: boolean; filter?: RegExp }): Promise<void> {
  const groups = new Map<string, BenchDefinition[]>();
  for (const definition of collected ?? []) {
    const name = definition.group ?? definition.name;
    groups.set(name, [...groups.get(name) ?? [], definition]);
  }
  for (const [name, definitions] of groups) {
    mitataGroup(name, () => {
      summary(() => {
        for (const { name, fn, baseline } of definitions) {
          const registered = mitataBench(name, fn);
          if (baseline) registered.baseline(true);
        }
      });
    });
  }
  // mitata samples each benchmark for at least ~640 ms of CPU; the short mode (CI) a tenth.
  const sampling = options.short ? { min_cpu_time: 64 * 1e6, min_samples: 4 } : {};
  await run(
    {
      colors: false,
      ...options.filter && { filter: options.filter },
      ...sampling,
    } as Parameters<typeof run>[0],
  );
}
