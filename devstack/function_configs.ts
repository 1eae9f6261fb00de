// ./dev function-configs: give every function the deno.json it deploys with. Supabase bundles each
// function from its own folder and recommends a deno.json per function for deploy; the versions live
// once, in the root deno.json (the tooling's config), and each function's file lists exactly the root
// entries its module graph imports (found with `deno info`), with the root's compiler options. So the
// versions cannot drift: tests/function_configs_test.ts fails when a generated file is not what this
// writes, and type-checks every function's index.ts with only its own config.
const ROOT = new URL("../", import.meta.url);
const FUNCTIONS = new URL("supabase/functions/", ROOT);

type RootConfig = { imports: Record<string, string>; compilerOptions: Record<string, unknown> };

/** The functions: every folder under supabase/functions with an index.ts, `_shared` excluded. */
export async function functionNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(FUNCTIONS)) {
    if (!entry.isDirectory || entry.name.startsWith("_")) continue;
    try {
      await Deno.stat(new URL(`${entry.name}/index.ts`, FUNCTIONS));
      names.push(entry.name);
    } catch {
      // a folder without an entry point is not a function
    }
  }
  return names.sort();
}

/** The bare specifiers (`zod`, `ajv/dist/2020.js`) the local modules of a function's graph import. */
async function bareImportsOf(fn: string): Promise<Set<string>> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: [
      "info",
      "--json",
      "--config",
      new URL("deno.json", ROOT).pathname,
      `supabase/functions/${fn}/index.ts`,
    ],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!info.success) throw new Error(`deno info ${fn}: ${new TextDecoder().decode(info.stderr)}`);
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string }[] }[];
  };
  const bare = new Set<string>();
  for (const module of graph.modules) {
    if (!module.specifier.startsWith("file:")) continue;
    for (const { specifier } of module.dependencies ?? []) {
      if (!/^(\.|\/|[a-z]+:)/.test(specifier)) bare.add(specifier);
    }
  }
  return bare;
}

/** The root import map entry a bare specifier resolves through: the key itself or a `prefix/` key. */
function rootEntryOf(specifier: string, imports: Record<string, string>): string {
  if (specifier in imports) return specifier;
  const prefix = Object.keys(imports).filter((k) => k.endsWith("/") && specifier.startsWith(k))
    .sort((a, b) => b.length - a.length)[0];
  if (!prefix) throw new Error(`${specifier} is not in the root deno.json's imports`);
  return prefix;
}

/** Each function's deno.json text, by function name. */
export async function functionConfigs(): Promise<Map<string, string>> {
  const root = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as RootConfig;
  const configs = new Map<string, string>();
  for (const fn of await functionNames()) {
    const entries = [...new Set([...await bareImportsOf(fn)].map((s) => rootEntryOf(s, root.imports)))]
      .sort();
    const config = {
      compilerOptions: root.compilerOptions,
      imports: Object.fromEntries(entries.map((key) => [key, root.imports[key]!])),
    };
    configs.set(fn, `${JSON.stringify(config, null, 2)}\n`);
  }
  return configs;
}

export function configPath(fn: string): URL {
  return new URL(`${fn}/deno.json`, FUNCTIONS);
}

if (import.meta.main) {
  for (const [fn, text] of await functionConfigs()) await Deno.writeTextFile(configPath(fn), text);
  console.log("wrote supabase/functions/*/deno.json");
}
