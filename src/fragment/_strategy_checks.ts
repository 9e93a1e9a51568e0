/**
 * Checks of a fragment strategy's optional fields, shared by the fragmenter,
 * the reassembler and the fragmentation spec of an app or a client.
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

const U32_MAX = 0xffff_ffff;

/**
 * `strategy.maxMsgId` (default 2^32−1), checked once.
 *
 * @throws {ConfigError} if it is not an integer from 0 to 2^32−1
 */
export function maxMsgIdOf(owner: string, strategy: FragmentStrategy): number {
  const maxMsgId = strategy.maxMsgId ?? U32_MAX;
  if (!(Number.isInteger(maxMsgId) && maxMsgId >= 0 && maxMsgId <= U32_MAX)) {
    throw new ConfigError(
      "strategy.maxMsgId",
      `${owner}: option "strategy.maxMsgId" must be an integer from 0 to ${U32_MAX} ` +
        `(got ${maxMsgId})`,
    );
  }
  return maxMsgId;
}
