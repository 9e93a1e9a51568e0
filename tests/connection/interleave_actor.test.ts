/**
 * Interleavings of the outbound actor explored with fast-check's scheduler:
 * concurrent pushes of both priorities (push / tryPush / pushWithPolicy, some
 * abandoned through their signal), a response produced frame by frame, a
 * writer whose writes complete in scheduler order, and close() at any point.
 *
 * Invariants: every push is accounted for exactly once (on the wire, in the
 * dead-letter queue, or refused to its caller); FIFO per priority; a low
 * frame never passes a waiting high one except by the fairness bound; a
 * response frame never passes a waiting push; response frames in order;
 * after close() every new push is refused with "closed".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PushError } from "../../src/push/errors.ts";
import type { PushPolicy } from "../../src/push/push_handle.ts";
import { PushHandle } from "../../src/push/push_handle.ts";
import { deadline } from "../e2e/_helpers.ts";
import { GatedSink, high, low, makeActor, response, tag } from "./_actor.ts";

type Kind = "push" | "tryPush" | "policy";
interface Op {
  kind: Kind;
  priority: "high" | "low";
  policy: PushPolicy;
  abort: boolean;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<Kind>("push", "tryPush", "policy"),
  priority: fc.constantFrom<"high" | "low">("high", "low"),
  policy: fc.constantFrom<PushPolicy>("error-if-full", "drop-if-full", "warn-and-drop-if-full"),
  abort: fc.boolean(),
});

/** What happened to one push, with logical times (event counter) at start and end. */
interface Outcome {
  tag: string;
  kind: Kind;
  priority: "high" | "low";
  start: number;
  end: number;
  result: "queued" | "dropped" | "refused";
  reason?: string;
}

test("scheduler-explored interleavings of pushes, a response and close keep the actor's guarantees", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(opArb, { minLength: 1, maxLength: 12 }),
      fc.record({
        maxHighBeforeLow: fc.integer({ min: 0, max: 3 }),
        highCapacity: fc.integer({ min: 1, max: 3 }),
        lowCapacity: fc.integer({ min: 1, max: 3 }),
        highWaterMark: fc.constantFrom(1, 30, 10_000),
      }),
      fc.integer({ min: 0, max: 6 }),
      fc.boolean(),
      async (s, ops, tuning, responseFrames, closeEarly) => {
        let clock = 0;
        const chosenAt = new Map<string, number>();
        const chosen: { tag: string; at: number }[] = [];
        const sink = new GatedSink(true, () => s.schedule(Promise.resolve(), "write"));
        const rig = makeActor({
          ...tuning,
          sink,
          onChoose: (f) => {
            const at = ++clock;
            chosen.push({ tag: tag(f), at });
            chosenAt.set(tag(f), at);
          },
        });
        const handle = new PushHandle(rig.queues);
        let closedAt = Infinity;
        const outcomes: Outcome[] = [];

        const run = ops.map(async (op, i) => {
          const n = i + 1;
          const frame = op.priority === "high" ? high(n) : low(n);
          const controller = new AbortController();
          if (op.abort) {
            s.schedule(Promise.resolve(), `abort ${n}`).then(() => controller.abort("abandoned"));
          }
          await s.schedule(Promise.resolve(), `${op.kind} ${tag(frame)}`);
          const o: Outcome = {
            tag: tag(frame),
            kind: op.kind,
            priority: op.priority,
            start: ++clock,
            end: 0,
            result: "refused",
          };
          outcomes.push(o);
          const options = { priority: op.priority, signal: controller.signal };
          try {
            if (op.kind === "tryPush") {
              const r = handle.tryPush(frame, options);
              if (r === "queued") o.result = "queued";
              else o.reason = r;
            } else if (op.kind === "push") {
              await handle.push(frame, options);
              o.result = "queued";
            } else {
              o.result = await handle.pushWithPolicy(frame, { ...options, policy: op.policy });
            }
          } catch (error) {
            o.reason = error instanceof PushError ? error.reason : String(error);
          }
          o.end = ++clock;
        });

        const produce = (async () => {
          for (let i = 0; i < responseFrames; i++) {
            await s.schedule(Promise.resolve(), `response r${i}`);
            const wait = rig.actor.offerResponse(response(i));
            if (wait) await wait;
          }
        })();
        if (closeEarly) {
          s.schedule(Promise.resolve(), "close").then(() => {
            closedAt = ++clock;
            rig.actor.close();
          });
        }

        await deadline(s.waitFor(Promise.all([...run, produce])), "ops settle");
        rig.actor.close();
        await deadline(s.waitFor(rig.actor.idle()), "actor idle");
        await deadline(s.waitFor(rig.writer.flush()), "writer flush");
        await deadline(s.waitIdle(), "scheduler idle");

        const wire = sink.wire();
        assert.deepEqual(wire, chosen.map((c) => c.tag), "wire order = choice order");
        const report = () => `${s.report().map((r) => r.label).join(" | ")}\nwire ${wire}`;

        // Accounting: each push exactly once, in exactly one place.
        const letters = rig.letters.map((l) => tag(l.frame));
        for (const o of outcomes) {
          const onWire = wire.filter((t) => t === o.tag).length;
          const dead = letters.filter((t) => t === o.tag).length;
          const expected = o.result === "queued"
            ? [1, 0]
            : o.result === "dropped"
            ? [0, 1]
            : [0, 0];
          assert.deepEqual([onWire, dead], expected, `${o.tag} ${o.result}\n${report()}`);
          if (o.start > closedAt) assert.equal(o.reason, "closed", `${o.tag} after close`);
        }
        for (const l of rig.letters) {
          assert.deepEqual([l.connectionId, l.reason], [7, "full"]);
          assert.equal(l.priority, tag(l.frame).startsWith("h") ? "high" : "low");
        }
        const pushTags = new Set(outcomes.map((o) => o.tag));
        assert.deepEqual(
          wire.filter((t) => t.startsWith("r")),
          Array.from({ length: responseFrames }, (_, i) => `r${i}`),
        );
        assert.ok(wire.every((t) => t.startsWith("r") || pushTags.has(t)), report());

        // FIFO per priority: a push that finished before another started goes first,
        // and push() calls go in call order even while they wait for room together.
        const queued = outcomes.filter((o) => o.result === "queued");
        for (const a of queued) {
          for (const b of queued) {
            const bothWaiting = a.kind === "push" && b.kind === "push" && a.start < b.start;
            if (a.priority === b.priority && (a.end < b.start || bothWaiting)) {
              assert.ok(
                chosenAt.get(a.tag)! < chosenAt.get(b.tag)!,
                `${a.tag} before ${b.tag}\n${report()}`,
              );
            }
          }
        }

        // Priority: when a frame was chosen, which pushes were certainly waiting?
        for (const [index, c] of chosen.entries()) {
          const waiting = queued.filter((o) => o.end < c.at && c.at < chosenAt.get(o.tag)!);
          if (c.tag.startsWith("r")) {
            assert.deepEqual(waiting.map((o) => o.tag), [], `${c.tag} passed a push\n${report()}`);
          } else if (c.tag.startsWith("l") && waiting.some((o) => o.priority === "high")) {
            let streak = 0;
            while (index - streak - 1 >= 0 && chosen[index - streak - 1]!.tag.startsWith("h")) {
              streak++;
            }
            assert.ok(
              tuning.maxHighBeforeLow > 0 && streak >= tuning.maxHighBeforeLow,
              `${c.tag} passed a waiting high after ${streak} highs\n${report()}`,
            );
          }
        }
      },
    ),
    { numRuns: 150 },
  );
});
