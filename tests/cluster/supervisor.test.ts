/**
 * Every core on one port: examples/cluster/supervisor.ts runs two
 * push_node.ts workers with reusePort on one port; both accept connections,
 * a worker killed with SIGKILL leaves the other serving and is restarted,
 * and SIGTERM to the supervisor stops everything gracefully.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { WireframeClient } from "../../src/client/client.ts";
import { startRedis } from "./_redis.ts";
import { run } from "./_proc.ts";

const decoder = new TextDecoder();

async function whoami(port: number): Promise<string> {
  await using client = await WireframeClient.connect({ port });
  const reply = await client.request(1, new Uint8Array(0));
  return decoder.decode(reply.payload).split(":")[0]!; // the node id
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("two workers on one port both serve; one killed leaves the other serving and is restarted; SIGTERM stops all", async () => {
  await using redis = await startRedis();
  await using supervisor = run("examples/cluster/supervisor.ts", [
    "--workers",
    "2",
    "--port",
    "0",
    "--redis",
    redis.url,
  ]);
  const [[, port]] = await supervisor.waitFor(
    /supervising 2 workers on [^:]+:(\d+)/,
    "the port",
  ) as [
    RegExpExecArray,
  ];
  const nodes = await supervisor.waitFor(
    /node (\w+) pid (\d+)/,
    "two workers' node ids",
    2,
    30_000,
  );
  await supervisor.waitFor(/listening on \S+/, "two workers listening", 2, 30_000);
  const pidOf = new Map(nodes.map((m) => [m[1]!, Number(m[2])]));

  // The kernel spreads connections over both (bounded by a count, not a time).
  const seen = new Set<string>();
  for (let i = 0; i < 300 && seen.size < 2; i++) seen.add(await whoami(Number(port)));
  assert.deepEqual([...seen].sort(), [...pidOf.keys()].sort(), "both workers accepted connections");

  const [victim] = [...pidOf.keys()];
  process.kill(pidOf.get(victim!)!, "SIGKILL");
  await supervisor.waitFor(/worker \d exited code null signal SIGKILL/, "the death noticed");
  for (let i = 0; i < 20; i++) {
    assert.notEqual(await whoami(Number(port)), victim, "the killed worker answers no more");
  }
  const restarted = await supervisor.waitFor(
    /node (\w+) pid (\d+)/,
    "a restarted worker",
    3,
    30_000,
  );
  const newPid = Number(restarted[2]![2]);
  assert.ok(alive(newPid));

  // process.kill, not child.kill(): Deno 2.9.6's child.kill("SIGTERM") kills a child that handles it.
  process.kill(supervisor.child.pid!, "SIGTERM");
  assert.equal(await supervisor.exited, 0, supervisor.stdout() + supervisor.stderr());
  const pids = [...pidOf.values(), newPid];
  assert.deepEqual(pids.filter(alive).filter((pid) => pid !== pidOf.get(victim!)), []);
  // Each worker shut down gracefully on SIGTERM (exit code 0), none was killed.
  assert.equal(
    [...supervisor.stdout().matchAll(/exited code 0 signal null/g)].length,
    2,
    supervisor.stdout() + supervisor.stderr(),
  );
});
