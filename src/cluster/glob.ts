/**
 * Channel patterns of the cluster bus: `*` matches any run of characters
 * (none included), `?` exactly one, `\` makes the next character literal.
 *
 * @module
 */

/** A compiled pattern: does `channel` match it? */
export type ChannelMatcher = (channel: string) => boolean;

/**
 * Compile a channel pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { channelMatcher } from "@wireframe/wireframe/cluster";
 *
 * const matches = channelMatcher("room.*.msg");
 * assert.ok(matches("room.42.msg"));
 * assert.ok(!matches("room.42.join"));
 * assert.ok(channelMatcher("a\\*")("a*"));
 * ```
 */
export function channelMatcher(pattern: string): ChannelMatcher {
  if (!/[*?\\]/.test(pattern)) return (channel) => channel === pattern;
  let source = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else if (c === "\\" && i + 1 < pattern.length) source += escape(pattern[++i]!);
    else source += escape(c);
  }
  const re = new RegExp(source + "$", "u");
  return (channel) => re.test(channel);
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
