// ./dev bench [scenario...]: runs scenarios against the local stack, prints a table, and writes
// bench/results/<scenario>.json for each and bench/results/table.md (the README's benchmark table, from
// this one run, with its date, core count and load).
//
// Honest verdicts: results of an earlier run are removed first; a scenario that throws is recorded as
// failed with its error and the run goes on with the next one; the command exits 1 when any scenario
// failed or threw.
import { type BenchResult, dropScratchTemplate } from "./lib.ts";

const ALL = [
  "append",
  "append-aged",
  "http",
  "me",
  "ratelimit",
  "connections",
  "purchase",
  "withdraw",
  "earnings",
  "earnings-aged",
  "rebuild",
  "network",
  "kyc",
  "outbox",
  "search",
  "export",
  "restore",
];
const names = Deno.args.length > 0 ? Deno.args : ALL;
const unknown = names.filter((name) => !ALL.includes(name));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(", ")}; known: ${ALL.join(", ")}`);
  Deno.exit(2);
}

const resultsDir = new URL("./results/", import.meta.url);
await Deno.remove(resultsDir, { recursive: true }).catch((e) => {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
});
await Deno.mkdir(resultsDir, { recursive: true });

const startedAt = new Date();
const results: BenchResult[] = [];
for (const name of names) {
  console.error(`running ${name}...`);
  const t0 = performance.now();
  let outcome: BenchResult;
  try {
    const module = await import(`./scenarios/${name.replaceAll("-", "_")}.ts`);
    outcome = await module.run();
  } catch (error) {
    console.error(`${name} threw:`, error);
    outcome = failedScenario(name, error);
  }
  outcome.seconds = Math.round((performance.now() - t0) / 100) / 10;
  outcome.load_average_1m = Math.round((Deno.loadavg()[0] ?? NaN) * 100) / 100;
  results.push(outcome);
  await Deno.writeTextFile(new URL(`${name}.json`, resultsDir), JSON.stringify(outcome, null, 2) + "\n");
}
await dropScratchTemplate();

function failedScenario(name: string, error: unknown): BenchResult {
  return {
    scenario: name,
    metric: "error",
    value: NaN,
    unit: "",
    baseline: "",
    baseline_value: NaN,
    ratio: NaN,
    target_ratio: "",
    passed: false,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    date: new Date().toISOString(),
  };
}

const header = ["scenario", "value", "baseline", "ratio", "target", "p99 ms", "passed", "s", "load"];
const rows = results.map((r) => [
  r.scenario,
  r.error ? `threw: ${r.error.split("\n")[0]}` : `${r.value} ${r.unit}`,
  r.error ? "" : `${r.baseline_value} (${r.baseline})`,
  r.error ? "" : String(r.ratio),
  r.target_ratio,
  r.p99_ms === undefined ? "" : `${r.p99_ms}`,
  r.passed ? "yes" : "NO",
  String(r.seconds),
  String(r.load_average_1m),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
for (const row of rows) console.log(line(row));
for (const r of results) if (r.notes) console.log(`${r.scenario}: ${r.notes}`);

const machine = `${navigator.hardwareConcurrency} cores, ${
  Math.round(Deno.systemMemoryInfo().total / 2 ** 30)
} GiB, ${Deno.build.os}`;
const minutes = Math.round((Date.now() - startedAt.getTime()) / 6000) / 10;
const markdown = [
  `Run of ${startedAt.toISOString().slice(0, 16)} UTC on ${machine}; ${minutes} min in all; ` +
  `\`./dev bench ${Deno.args.join(" ")}\`.`.replace(" `.", "`."),
  "",
  `| ${header.join(" | ")} |`,
  `|${header.map(() => "---").join("|")}|`,
  ...rows.map((row) => `| ${row.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`),
  "",
].join("\n");
await Deno.writeTextFile(new URL("table.md", resultsDir), markdown);
console.log(`\n${machine}; ${minutes} min; table for the README in bench/results/table.md`);

const failed = results.filter((r) => !r.passed).map((r) => r.scenario);
if (failed.length > 0) {
  console.error(`failed: ${failed.join(", ")}`);
  Deno.exit(1);
}
