// ./dev bench [scenario...]: runs scenarios against the local stack, prints a table, and writes
// bench/results/<scenario>.json for each.
import type { BenchResult } from "./lib.ts";

const ALL = [
  "append",
  "http",
  "me",
  "ratelimit",
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
const resultsDir = new URL("./results/", import.meta.url);
await Deno.mkdir(resultsDir, { recursive: true });

const results: BenchResult[] = [];
for (const name of names) {
  if (!ALL.includes(name)) {
    console.error(`unknown scenario ${name}; known: ${ALL.join(", ")}`);
    Deno.exit(2);
  }
  console.error(`running ${name}...`);
  const module = await import(`./scenarios/${name.replaceAll("-", "_")}.ts`);
  const outcome: BenchResult = await module.run();
  results.push(outcome);
  await Deno.writeTextFile(new URL(`${name}.json`, resultsDir), JSON.stringify(outcome, null, 2) + "\n");
}

const rows = results.map((r) => [
  r.scenario,
  `${r.value} ${r.unit}`,
  `${r.baseline_value} (${r.baseline})`,
  String(r.ratio),
  r.target_ratio,
  r.p99_ms === undefined ? "" : `${r.p99_ms}`,
  r.passed ? "yes" : "NO",
]);
const header = ["scenario", "value", "baseline", "ratio", "target", "p99 ms", "passed"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
for (const row of rows) console.log(line(row));
for (const r of results) if (r.notes) console.log(`${r.scenario}: ${r.notes}`);
