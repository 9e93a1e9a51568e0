/**
 * Validation of a strategy's optional one-fragment fast path, shared by the
 * fragmenter and the reassembler.
 *
 * @module
 */
import { ConfigError } from "../error.ts";
import type { FragmentStrategy, SingleFragmentCodec } from "./types.ts";

const isCount = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0;

/**
 * `strategy.singleFragment`, checked once so the hot path can trust it.
 *
 * @throws {ConfigError} if it is present but malformed
 */
export function singleFragmentOf(
  owner: string,
  strategy: FragmentStrategy,
): SingleFragmentCodec | undefined {
  const single = strategy.singleFragment;
  if (single === undefined) return undefined;
  if (
    !isCount(single.headerLength) || !isCount(single.maxLength) ||
    typeof single.encodeHeaderInto !== "function" || typeof single.isWholeMessage !== "function"
  ) {
    throw new ConfigError(
      "strategy.singleFragment",
      `${owner}: option "strategy.singleFragment" must have integer headerLength and maxLength ` +
        `>= 0 and the methods encodeHeaderInto and isWholeMessage`,
    );
  }
  return single;
}
