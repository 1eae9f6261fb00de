// kyc: peak memory of a gateway while 10 users each upload a maximal KYC submission at once (5 documents
// of 5 MiB, the default limits: a 25 MiB body each). Measured as the growth of the gateway process's peak
// resident set (VmHWM in /proc/<pid>/status) over its peak after a small warm-up submission, against the
// bytes those uploads put in flight. Target: the growth stays under half of the bytes in flight, so
// concurrent uploads cannot multiply into the function's memory.
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";
import {
  FILE_SIZE_BYTES_MAX_DEFAULT,
  FILES_MAX_DEFAULT,
} from "../../supabase/functions/kyc/upload_limits.ts";
import { APPLICANT, doc, form, newUser, PNG } from "../../supabase/functions/kyc/kyc_test_support.ts";
import { type BenchResult, DATABASE_URL, result, round, startGateway, stop } from "../lib.ts";

const UPLOADS = Number(Deno.env.get("KYC_BENCH_UPLOADS") ?? 10);
const MIB = 1024 * 1024;

function peakRssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function multipart(parts: Parameters<typeof form>[0]): Promise<{ body: Uint8Array; type: string }> {
  const response = new Response(form(parts));
  return {
    type: response.headers.get("content-type")!,
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

export async function run(): Promise<BenchResult> {
  const storageDir = await Deno.makeTempDir({ prefix: "kyc-bench-storage-" });
  const port = freePort();
  const gateway = await startGateway(port, {
    RATE_LIMIT_ENABLED: "false",
    KYC_STORAGE: "local",
    KYC_STORAGE_DIR: storageDir,
  });
  const sql = createSql(DATABASE_URL, 2);
  try {
    const url = `http://127.0.0.1:${port}/functions/v1/kyc`;
    const upload = async (token: string, body: { body: Uint8Array; type: string }) => {
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": body.type },
        body: body.body as Uint8Array<ArrayBuffer>,
      });
      await res.body?.cancel();
      return res.status;
    };
    const warmUp = await upload((await newUser(sql)).token, await multipart([...APPLICANT, doc(PNG)]));
    if (warmUp !== 202) throw new Error(`warm-up upload answered ${warmUp}`);

    const file = new Uint8Array(FILE_SIZE_BYTES_MAX_DEFAULT);
    file.set(PNG);
    const maximal = await multipart([
      ...APPLICANT,
      ...Array.from({ length: FILES_MAX_DEFAULT }, (_, i) => doc(file, `page-${i}.png`)),
    ]);
    const users = await Promise.all(Array.from({ length: UPLOADS }, () => newUser(sql)));
    const before = peakRssBytes(gateway.pid);
    const statuses = await Promise.all(users.map((user) => upload(user.token, maximal)));
    const after = peakRssBytes(gateway.pid);

    const inFlight = UPLOADS * maximal.body.byteLength;
    const growth = after - before;
    const counts = statuses.reduce<Record<number, number>>((c, s) => ({ ...c, [s]: (c[s] ?? 0) + 1 }), {});
    return result({
      scenario: "kyc",
      metric: "kyc_upload_peak_rss_growth",
      value: round(growth / MIB),
      unit: "MiB peak RSS growth",
      baseline: `bytes in flight: ${UPLOADS} concurrent bodies of ${
        round(maximal.body.byteLength / MIB, 2)
      } MiB`,
      baseline_value: round(inFlight / MIB),
      target: { ratio: 0.5, meaning: "<=" },
      extraChecks: statuses.every((s) => s === 202 || s === 503),
      notes: `gateway peak RSS ${round(before / MIB)} MiB after warm-up, ${round(after / MIB)} MiB after ` +
        `${UPLOADS} concurrent maximal uploads; answers ${JSON.stringify(counts)}`,
    });
  } finally {
    await stop(gateway);
    await sql.end();
    await Deno.remove(storageDir, { recursive: true });
  }
}
