// ./dev simulate --seed S --steps N [--bug NAME] [--rebuild-every K] [--verbose]: one deterministic
// simulation (tests/simulation/simulate.ts) on a scratch database of its own, dropped afterwards.
// Prints "digest <hex>" of the final state; a failure prints the seed, the step and the broken
// invariant, and the same command replays it.
import { parseArgs } from "node:util";
import { scratchDatabase } from "../tests/scratch_db.ts";
import { simulate, SimulationFailure } from "../tests/simulation/simulate.ts";
import { BUGS } from "../tests/simulation/bugs.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string" },
    steps: { type: "string", default: "1000" },
    bug: { type: "string" },
    "rebuild-every": { type: "string", default: "100" },
    verbose: { type: "boolean", default: false },
    // Debugging: write the canonical state the digest is over to a file; keep the database.
    dump: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const seed = Number(values.seed);
const steps = Number(values.steps);
const rebuildEvery = Number(values["rebuild-every"]);
if (!Number.isInteger(seed) || seed < 0 || !Number.isInteger(steps) || steps < 1 || !(rebuildEvery >= 1)) {
  console.error(
    `usage: ./dev simulate --seed S --steps N [--bug ${
      Object.keys(BUGS).join("|")
    }] [--rebuild-every K] [--verbose]`,
  );
  Deno.exit(2);
}

const scratch = await scratchDatabase();
let code = 0;
try {
  const result = await simulate({
    seed,
    steps,
    url: scratch.url,
    rebuildEvery,
    ...(values.bug ? { bug: values.bug } : {}),
    ...(values.dump ? { onState: (state: string) => Deno.writeTextFileSync(values.dump!, state) } : {}),
    ...(values.verbose ? { onStep: (step: number, line: string) => console.log(`${step}: ${line}`) } : {}),
  });
  console.log(`seed ${seed} steps ${steps}: ${JSON.stringify(result.counts)}`);
  const ms = result.elapsedMs;
  console.log(
    `elapsed: steps ${ms.steps.toFixed(0)} ms, invariants ${ms.invariants.toFixed(0)} ms, rebuilds ${
      ms.rebuilds.toFixed(0)
    } ms`,
  );
  console.log(`digest ${result.digest}`);
} catch (error) {
  if (!(error instanceof SimulationFailure)) throw error;
  console.error(error.message);
  console.error(
    `replay: ./dev simulate --seed ${seed} --steps ${steps}${values.bug ? ` --bug ${values.bug}` : ""}`,
  );
  code = 1;
} finally {
  if (values.keep) console.log(`kept ${scratch.url}`);
  else await scratch.drop();
}
Deno.exit(code);
