// deno run --allow-net devstack/port_free.ts PORT: exit 0 when 127.0.0.1:PORT can be bound now, 1 when not.
// Binding is the only faithful test: a listener of another program and an outgoing connection that
// the kernel gave this port from its ephemeral range both make the bind fail, as they would for the
// service about to start.
const port = Number(Deno.args[0]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`usage: port_free.ts PORT (got ${Deno.args[0] ?? "nothing"})`);
  Deno.exit(2);
}
try {
  Deno.listen({ hostname: "127.0.0.1", port }).close();
} catch (error) {
  if (!(error instanceof Deno.errors.AddrInUse)) throw error;
  Deno.exit(1);
}
