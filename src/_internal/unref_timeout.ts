/**
 * `unrefTimeout`: a one-shot timer that does not keep the process alive, on
 * every runtime.
 *
 * @module
 */

/** Call `callback` once after `ms`; the timer alone does not keep the process alive. */
export function unrefTimeout(callback: () => void, ms: number): void {
  const timer: unknown = setTimeout(callback, ms);
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref(); // Bun, Node
  } else {
    const deno = (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno;
    deno?.unrefTimer(timer as number);
  }
}
