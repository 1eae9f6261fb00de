// One function's handler alone in a process of its own (FUNCTION_NAME, on API_PORT), the way Supabase runs
// each function in a worker of its own, for scenarios that measure one function's memory apart from the
// gateway, which hosts every function in one process (devstack/gateway.ts).
const name = Deno.env.get("FUNCTION_NAME")!;
const { handler } = await import(new URL(`../supabase/functions/${name}/handler.ts`, import.meta.url).href);
Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("API_PORT")), onListen: () => {} }, handler);
