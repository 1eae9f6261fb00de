// The memory budget of uploads in progress, per function instance. An upload reserves its declared
// Content-Length (the body limit when it declares none) before its body is read, and gives it back when
// its response is decided; the reader never holds more than it reserved. Uploads that do not fit wait
// first come, first served, their bodies unread (the connection's flow control holds the client back),
// so a large upload is not starved by small ones; a full queue or a wait past queueWaitMs is 503 with
// Retry-After. Before this (and reading each body once), ten concurrent maximal uploads grew a gateway by
// 705-760 MiB; after, by about 100 MiB (bench/scenarios/kyc.ts).
import { Problem } from "../_shared/http/problem.ts";

export type UploadBudgetLimits = { memoryBytesMax: number; queuedMax: number; queueWaitMs: number };

const RETRY_AFTER_SECONDS = 5;

export function uploadsBusy(): Problem {
  return new Problem(
    503,
    "unavailable",
    "Service unavailable",
    "Too many document uploads are in progress; retry shortly.",
    { headers: { "Retry-After": String(RETRY_AFTER_SECONDS) } },
  );
}

type Waiter = { bytes: number; admit: () => void };

export class UploadBudget {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly limits: UploadBudgetLimits) {}

  /** Bytes reserved now, for tests and logs. */
  get reservedBytes(): number {
    return this.used;
  }

  /** Resolves with the function that gives the reservation back (safe to call twice); throws 503. */
  async reserve(bytes: number): Promise<() => void> {
    if (bytes > this.limits.memoryBytesMax) throw new Error("an upload larger than the whole budget");
    if (this.queue.length === 0 && this.used + bytes <= this.limits.memoryBytesMax) {
      this.used += bytes;
      return this.releaser(bytes);
    }
    if (this.queue.length >= this.limits.queuedMax) throw uploadsBusy();
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        admit: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        this.admitWaiting(); // the next ones may fit now that this one left the head
        reject(uploadsBusy());
      }, this.limits.queueWaitMs);
      this.queue.push(waiter);
    });
    return this.releaser(bytes);
  }

  private releaser(bytes: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    while (this.queue.length > 0 && this.used + this.queue[0]!.bytes <= this.limits.memoryBytesMax) {
      const next = this.queue.shift()!;
      this.used += next.bytes;
      next.admit();
    }
  }
}
