/**
 * `IdTable`: values by integer id, for a collection that churns for as long
 * as the process runs (a server's connections), without a `Map`.
 *
 * Why not a `Map`: when V8 grows, shrinks or compacts a Map's (or Set's)
 * table it links the old table to the new one, for iterators still on it.
 * Under connect/close churn a table is replaced every few dozen connections;
 * once one of them has reached the old generation it stays there, dead, until
 * the next major GC, and a minor GC treats it as a root: every later table,
 * and every connection any of them held, survives the scavenges (GC
 * nepotism). On Deno that kept several KiB per closed connection alive past
 * each scavenge and grew the young generation. An object's properties are
 * rehashed without such a link. The keys are names, not array indices: JSC
 * sizes an object's indexed storage to its highest index, which would grow
 * with every connection ever accepted.
 *
 * @module
 */

/** Values by integer id; `values()` lists them in the order their ids were first set. */
export class IdTable<T> {
  #entries: Record<string, T> = Object.create(null);
  #size = 0;

  /** How many ids have a value. */
  get size(): number {
    return this.#size;
  }

  /** `id`'s value, or `undefined` if it has none. */
  get(id: number): T | undefined {
    return this.#entries[keyOf(id)];
  }

  /** Set `id`'s value. */
  set(id: number, value: T): void {
    const key = keyOf(id);
    if (!(key in this.#entries)) this.#size++;
    this.#entries[key] = value;
  }

  /** Forget `id`; returns whether it had a value. */
  delete(id: number): boolean {
    const key = keyOf(id);
    if (!(key in this.#entries)) return false;
    delete this.#entries[key];
    this.#size--;
    return true;
  }

  /** The values, in the order their ids were first set (a copy). */
  values(): T[] {
    return Object.values(this.#entries);
  }
}

/** A property name that is not an array index (see the module comment). */
function keyOf(id: number): string {
  return "#" + id;
}
