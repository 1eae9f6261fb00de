// The deterministic simulation (tests/simulation/simulate.ts) over a fixed set of seeds, at least 10,000
// steps in all, every invariant checked after every step; a replay of one seed gives the same digest; and
// each deliberately injected bug (tests/simulation/bugs.ts) is caught. SIM_SEEDS ("1,2,3") and SIM_STEPS
// (per seed) override the set, to replay or to run longer.
import assert from "node:assert/strict";
import { type Database, simulationDatabases } from "./simulation/databases.ts";
import { simulate, SimulationFailure } from "./simulation/simulate.ts";

const SEEDS = (Deno.env.get("SIM_SEEDS") ??
  "101,202,303,404,505,606,707,808,909,1010,1111,1212,1313,1414,1515,1616,1717,1818,1919,2020")
  .split(",").map(Number);
const STEPS = Number(Deno.env.get("SIM_STEPS") ?? 500);

// Which seed and how many steps catch each injected bug (found by running them; README, Tests).
const BUG_CATCHES = [
  { bug: "commission_ceil", seed: 1, steps: 150 },
  { bug: "missing_purchase_lock", seed: 1, steps: 300 },
  { bug: "earnings_after_refund", seed: 1, steps: 300 },
];

async function inFresh<T>(
  databases: { fresh: () => Promise<Database> },
  body: (url: string) => Promise<T>,
): Promise<T> {
  const db = await databases.fresh();
  try {
    return await body(db.url);
  } finally {
    await db.drop();
  }
}

Deno.test("the simulation keeps every invariant over the fixed seeds, replays exactly, and catches injected bugs", async (t) => {
  const databases = await simulationDatabases();
  try {
    await t.step(`${SEEDS.length} seeds x ${STEPS} steps keep every invariant`, async () => {
      assert.ok(SEEDS.length * STEPS >= 10_000 || Deno.env.has("SIM_SEEDS"), "CI runs at least 10,000 steps");
      // Two at a time, each on its own database (the machine has two cores).
      const queue = [...SEEDS];
      const digests = new Map<number, string>();
      const worker = async () => {
        for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
          const result = await inFresh(
            databases,
            (url) => simulate({ seed, steps: STEPS, url, rebuildEvery: 250 }),
          );
          digests.set(seed, result.digest);
          console.log(`seed ${seed}: digest ${result.digest} ${JSON.stringify(result.counts)}`);
        }
      };
      await Promise.all([worker(), worker()]);
      assert.equal(digests.size, SEEDS.length);
    });

    await t.step("a seed replayed gives the same digest", async () => {
      const run = () => inFresh(databases, (url) => simulate({ seed: 42, steps: 200, url }));
      const [first, second] = [await run(), await run()];
      assert.match(first.digest, /^[0-9a-f]{64}$/);
      assert.equal(second.digest, first.digest);
      // And another seed is another history.
      const other = await inFresh(databases, (url) => simulate({ seed: 43, steps: 200, url }));
      assert.notEqual(other.digest, first.digest);
    });

    for (const { bug, seed, steps } of BUG_CATCHES) {
      await t.step(`the injected bug ${bug} is caught (seed ${seed})`, async () => {
        const failure = await inFresh(databases, (url) => simulate({ seed, steps, url, bug })).then(
          () => null,
          (error) => error,
        );
        assert.ok(
          failure instanceof SimulationFailure,
          `seed ${seed} ran ${steps} steps with ${bug} unnoticed`,
        );
        console.log(`${bug}: ${failure.message.split("\nlast steps:")[0]}`);
      });
    }
  } finally {
    await databases.close();
  }
});
