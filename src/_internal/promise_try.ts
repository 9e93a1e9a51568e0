/**
 * `Promise.try` (ES2025) for runtimes without it: Node.js 22 lacks it (it came with Node 24), and
 * Node 22 is still supported. Calls `fn(...args)` now, synchronously, and returns a promise of its
 * result; a synchronous throw becomes a rejection instead of escaping to the caller.
 */
export function promiseTry<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Promise<Awaited<T>> {
  return new Promise<Awaited<T>>((resolve) => resolve(fn(...args) as Awaited<T>));
}
