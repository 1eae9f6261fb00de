// Every function deploys with its own deno.json (devstack/function_configs.ts writes them from the root
// deno.json): the committed files are what the generator writes, and each function's index.ts
// type-checks with only its own config, the way Supabase bundles it from its folder.
import assert from "node:assert/strict";
import { configPath, functionConfigs, functionNames } from "../devstack/function_configs.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("each function's deno.json is what ./dev function-configs writes", async () => {
  const configs = await functionConfigs();
  assert.ok(configs.size >= 13, `only ${configs.size} functions found`);
  for (const [fn, text] of configs) {
    let committed = "";
    try {
      committed = await Deno.readTextFile(configPath(fn));
    } catch {
      // missing: reported below
    }
    assert.ok(committed === text, `supabase/functions/${fn}/deno.json is stale: run ./dev function-configs`);
  }
});

/** `deno check` of a function's entry point with `config` alone. The lockfile is a scratch copy of the
 * root's (so the root's pinned versions are used and the clone is not written). */
async function checkWith(fn: string, config: URL): Promise<{ ok: boolean; output: string }> {
  const scratch = await Deno.makeTempDir();
  try {
    await Deno.copyFile(new URL("deno.lock", ROOT), `${scratch}/deno.lock`);
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "check",
        "--quiet",
        "--config",
        config.pathname,
        "--lock",
        `${scratch}/deno.lock`,
        `supabase/functions/${fn}/index.ts`,
      ],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    return { ok: run.success, output };
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

Deno.test("every function's index.ts type-checks with only its own deno.json", async () => {
  const names = await functionNames();
  const failures: string[] = [];
  // Two at a time: each check is a process of its own.
  for (let i = 0; i < names.length; i += 2) {
    const results = await Promise.all(
      names.slice(i, i + 2).map(async (fn) => [fn, await checkWith(fn, configPath(fn))] as const),
    );
    for (const [fn, result] of results) {
      if (!result.ok) failures.push(`${fn}: ${result.output.slice(0, 1000)}`);
    }
  }
  assert.deepEqual(failures, []);
});

Deno.test("the check fails when a function's config lacks an import it needs", async () => {
  const own = JSON.parse(await Deno.readTextFile(configPath("health")));
  assert.ok("zod" in own.imports);
  delete own.imports.zod;
  const scratch = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${scratch}/deno.json`, JSON.stringify(own));
    const result = await checkWith("health", new URL(`file://${scratch}/deno.json`));
    assert.equal(result.ok, false);
    assert.match(result.output, /zod/);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});
