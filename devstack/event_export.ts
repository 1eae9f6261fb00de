// The weekly event-log export and its restore drill.
//
// export: in one repeatable-read snapshot, writes gzip-compressed NDJSON: a header line {format,
// exportedAt, eventCount, chainHead, digests} (digests: projections.digest() of the source, the numbers
// people read), then every event in position order. With SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY set
// it uploads the file to the private bucket EVENT_EXPORT_BUCKET (default "event-exports").
// drill: into an empty database with every migration applied, loads the events from that file alone
// (projection triggers off) and analyzes them, seals the chain and compares its head with the exported one, rebuilds every
// projection (projections.rebuild) and compares each table's digest with the source's.
import { createSql, type Sql } from "../supabase/functions/_shared/infra/db.ts";

export type ExportHeader = {
  format: 1;
  exportedAt: string;
  eventCount: number;
  chainHead: { seq: number; hash: string } | null;
  digests: { table_name: string; row_count: number; md5: string }[];
};

const BATCH = 5000;

export async function exportEvents(databaseUrl: string, file: string): Promise<ExportHeader> {
  const sql = createSql(databaseUrl, 2);
  try {
    while ((await sql<{ n: number }[]>`select event_store.seal_chain(10000) as n`)[0]!.n > 0) {
      /* catch up */
    }
    return await sql.begin("isolation level repeatable read read only", async (tx) => {
      const [count] = await tx<{ n: number }[]>`select count(*)::int as n from event_store.events`;
      const [head] = await tx<{ seq: number; hash: string }[]>`
        select seq::int as seq, encode(hash, 'hex') as hash from event_store.chain order by seq desc limit 1`;
      const digests = await tx<ExportHeader["digests"]>`
        select table_name, row_count::int as row_count, md5 from projections.digest()`;
      const header: ExportHeader = {
        format: 1,
        exportedAt: new Date().toISOString(),
        eventCount: count!.n,
        chainHead: head ?? null,
        digests: [...digests],
      };
      const out = await Deno.open(file, { write: true, create: true, truncate: true });
      const gzip = new CompressionStream("gzip");
      const piping = gzip.readable.pipeTo(out.writable);
      const writer = gzip.writable.getWriter();
      const encoder = new TextEncoder();
      await writer.write(encoder.encode(JSON.stringify(header) + "\n"));
      let after = 0;
      for (;;) {
        const rows = await tx<{ line: string; position: number }[]>`
          select position::int as position, row_to_json(e)::text as line from event_store.events e
          where position > ${after} order by position limit ${BATCH}`;
        if (rows.length === 0) {
          break;
        }
        await writer.write(encoder.encode(rows.map((r) => r.line).join("\n") + "\n"));
        after = rows.at(-1)!.position;
      }
      await writer.close();
      await piping;
      return header;
    });
  } finally {
    await sql.end();
  }
}

/** Upload to Supabase Storage (a private bucket: only the service role reads it). */
export async function uploadExport(file: string, name: string): Promise<string | null> {
  const url = Deno.env.get("SUPABASE_URL");
  const key = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
  if (!url || !key) return null;
  const bucket = Deno.env.get("EVENT_EXPORT_BUCKET") ?? "event-exports";
  const res = await fetch(`${url}/storage/v1/object/${bucket}/${name}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/gzip", "x-upsert": "false" },
    body: await Deno.readFile(file),
  });
  if (!res.ok) throw new Error(`upload to ${bucket} failed: ${res.status} ${await res.text()}`);
  return `${bucket}/${name}`;
}

async function* lines(file: string): AsyncGenerator<string> {
  const input = await Deno.open(file, { read: true });
  const text = input.readable.pipeThrough(new DecompressionStream("gzip")).pipeThrough(
    new TextDecoderStream(),
  );
  let rest = "";
  for await (const chunk of text) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const line of parts) if (line) yield line;
  }
  if (rest) yield rest;
}

export type DrillResult = {
  events: number;
  loadMs: number;
  rebuildMs: number;
  differing: string[];
  chainHeadMatches: boolean;
};

/** `sql` is an empty database with every migration applied. */
export async function restoreDrill(sql: Sql, file: string): Promise<DrillResult> {
  const it = lines(file);
  const first = await it.next();
  if (first.done) throw new Error("the export is empty");
  const header = JSON.parse(first.value) as ExportHeader;
  const started = performance.now();
  let events = 0;
  await sql.begin(async (tx) => {
    // Load the facts only: projection (and immutability) triggers stay off; the rebuild projects them.
    await tx`set local session_replication_role = replica`;
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const rows = "[" + batch.join(",") + "]";
      await tx`insert into event_store.events overriding system value
               select * from jsonb_populate_recordset(null::event_store.events, ${rows}::text::jsonb)`;
      events += batch.length;
      batch = [];
    };
    for await (const line of it) {
      batch.push(line);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    await tx`select setval(pg_get_serial_sequence('event_store.events', 'position'),
                           greatest((select max(position) from event_store.events), 1))`;
  });
  if (events !== header.eventCount) {
    throw new Error(`the export holds ${events} events, its header says ${header.eventCount}`);
  }
  // Statistics for the events just loaded (autovacuum may not have analyzed them yet), so the rebuild's
  // range scans are planned for the table as it is, not as an empty one.
  await sql`analyze event_store.events`;
  const loadMs = performance.now() - started;
  const rebuildStarted = performance.now();
  await sql`select projections.rebuild()`;
  const rebuildMs = performance.now() - rebuildStarted;
  const digests = await sql<
    { table_name: string; md5: string }[]
  >`select table_name, md5 from projections.digest()`;
  const source = new Map(header.digests.map((d) => [d.table_name, d.md5]));
  const differing = digests.filter((d) => source.get(d.table_name) !== d.md5).map((d) => d.table_name);
  let chainHeadMatches = header.chainHead === null;
  if (header.chainHead) {
    while ((await sql<{ n: number }[]>`select event_store.seal_chain(10000) as n`)[0]!.n > 0) { /* seal */ }
    const [head] = await sql<{ hash: string }[]>`
      select encode(hash, 'hex') as hash from event_store.chain where seq = ${header.chainHead.seq}`;
    chainHeadMatches = head?.hash === header.chainHead.hash;
  }
  return { events, loadMs, rebuildMs, differing, chainHeadMatches };
}

if (import.meta.main) {
  const [command, arg] = Deno.args;
  const databaseUrl = Deno.env.get("DATABASE_URL")!;
  if (command === "export") {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
    const file = arg ?? `.local/exports/events-${stamp}.ndjson.gz`;
    await Deno.mkdir(file.replace(/\/[^/]*$/, ""), { recursive: true });
    const header = await exportEvents(databaseUrl, file);
    const uploaded = await uploadExport(file, file.replace(/^.*\//, ""));
    console.error(
      `exported ${header.eventCount} events, chain head ${header.chainHead?.seq ?? "none"}` +
        (uploaded ? `, uploaded to ${uploaded}` : ""),
    );
    console.log(await Deno.realPath(file));
  } else if (command === "drill" && arg) {
    const { scratchDatabase } = await import("../tests/scratch_db.ts");
    const empty = await scratchDatabase();
    const sql = createSql(empty.url, 2);
    try {
      const drill = await restoreDrill(sql, arg);
      const ok = drill.differing.length === 0 && drill.chainHeadMatches;
      console.log(JSON.stringify({ ok, ...drill }));
      if (!ok) Deno.exit(1);
    } finally {
      await sql.end();
      await empty.drop();
    }
  } else {
    console.error("usage: event_export.ts export [file] | drill <file>");
    Deno.exit(2);
  }
}
