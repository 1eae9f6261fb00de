// The password KDF's cost per hash, next to its parameters: what one signup or login pays in CPU.
//   tools/node_modules/.bin/deno run -A bench/kdf_cost.ts [samples]
import {
  hashPassword,
  SCRYPT_PARAMS,
  verifyPassword,
} from "../supabase/functions/_shared/auth/password_hash.ts";

const samples = Math.max(1, Number(Deno.args[0] ?? 10));
const password = "correct horse battery staple";

await hashPassword(password); // warm-up (first call loads the worker)
const costsMs: number[] = [];
let stored = "";
for (let i = 0; i < samples; i++) {
  const started = performance.now();
  stored = await hashPassword(password);
  costsMs.push(performance.now() - started);
}
const verifyStarted = performance.now();
if (!(await verifyPassword(password, stored))) throw new Error("verify failed");
const verifyMs = performance.now() - verifyStarted;

costsMs.sort((a, b) => a - b);
const median = costsMs[Math.floor(costsMs.length / 2)]!;
const memoryMib = (128 * 2 ** SCRYPT_PARAMS.logN * SCRYPT_PARAMS.r) / 2 ** 20;
console.log(
  `kdf=scrypt N=2^${SCRYPT_PARAMS.logN} r=${SCRYPT_PARAMS.r} p=${SCRYPT_PARAMS.p} memory=${memoryMib}MiB ` +
    `samples=${samples} hash_median_ms=${median.toFixed(1)} hash_min_ms=${costsMs[0]!.toFixed(1)} ` +
    `hash_max_ms=${costsMs.at(-1)!.toFixed(1)} verify_ms=${verifyMs.toFixed(1)}`,
);
