// A Requester for @upstash/redis that merges concurrent `/pipeline` requests of one isolate into one.
//
// The library's auto-pipelining only batches commands issued within a couple of microtasks, so under load
// every API request still made its own Upstash request (the local endpoint counted 1.00 per /auth/me at
// 100 clients). This wrapper sits between the library and its own HttpClient: while `maxInFlight`
// pipeline requests are under way, further ones wait in a queue, and when one of them answers, everything
// queued goes out as ONE `/pipeline` request whose answer is split back to the callers in order. When
// nothing is in flight a request goes out at once, so an idle isolate adds no delay.
//
// Only `/pipeline` requests are merged: a pipeline is not atomic, so running several callers' commands
// back to back in it is what separate requests would have done. `/multi-exec` (a transaction), single
// commands and streaming requests pass straight through. Per-command errors arrive in the answer's items
// and so reach only their own caller; if the merged request fails as a whole with an error answer (a
// malformed command makes Upstash refuse the pipeline), each caller's part is sent again alone, so only
// the caller that sent the bad command fails. A transport failure fails every caller waiting on it, as
// their own requests would have failed.
import { errors, type Requester, type UpstashRequest, type UpstashResponse } from "@upstash/redis";

type Waiter = {
  commands: unknown[];
  resolve: (items: UpstashResponse<unknown>[]) => void;
  reject: (error: unknown) => void;
};

export type PipelineBatcherOptions = {
  /** Merged requests under way at once; more callers wait and go out together when one answers. */
  maxInFlight: number;
  /** The most commands in one merged request (bounds its body); a longer queue goes out in parts. */
  maxCommands: number;
};

/** What the batcher did since it was created (tests and benchmarks read it). */
export type PipelineBatcherStats = { callers: number; requests: number; resentAlone: number };

export class PipelineBatcher implements Requester {
  readonly stats: PipelineBatcherStats = { callers: 0, requests: 0, resentAlone: 0 };
  #queue: Waiter[] = [];
  #inFlight = 0;

  constructor(readonly inner: Requester, readonly options: PipelineBatcherOptions) {}

  // The library reads and writes these on its client (read-your-writes sync token).
  get readYourWrites(): boolean {
    return this.inner.readYourWrites ?? false;
  }
  set readYourWrites(value: boolean) {
    this.inner.readYourWrites = value;
  }
  get upstashSyncToken(): string {
    return this.inner.upstashSyncToken ?? "";
  }
  set upstashSyncToken(value: string) {
    this.inner.upstashSyncToken = value;
  }

  request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    if (!isMergeable(req)) return this.inner.request<TResult>(req);
    this.stats.callers++;
    return new Promise<UpstashResponse<unknown>[]>((resolve, reject) => {
      this.#queue.push({ commands: req.body as unknown[], resolve, reject });
      this.#drain();
    }) as unknown as Promise<UpstashResponse<TResult>>;
  }

  #drain(): void {
    while (this.#inFlight < this.options.maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      this.#inFlight++;
      this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#drain();
      });
    }
  }

  /** The callers at the head of the queue whose commands fit in one request (at least one caller). */
  #take(): Waiter[] {
    let count = 0;
    let taken = 0;
    for (const waiter of this.#queue) {
      if (taken > 0 && count + waiter.commands.length > this.options.maxCommands) break;
      count += waiter.commands.length;
      taken++;
    }
    return this.#queue.splice(0, taken);
  }

  async #send(batch: Waiter[]): Promise<void> {
    this.stats.requests++;
    const only = batch.length === 1 ? batch[0] : undefined;
    if (only) {
      await this.inner.request<unknown>({ path: ["pipeline"], body: only.commands }).then(
        (items) => only.resolve(items as unknown as UpstashResponse<unknown>[]),
        only.reject,
      );
      return;
    }
    let items: UpstashResponse<unknown>[];
    try {
      items = await this.inner.request<unknown>({
        path: ["pipeline"],
        body: batch.flatMap((waiter) => waiter.commands),
      }) as unknown as UpstashResponse<unknown>[];
    } catch (error) {
      if (!(error instanceof errors.UpstashError)) {
        for (const waiter of batch) waiter.reject(error);
        return;
      }
      // Refused as a whole: give each caller its own answer, so one bad command fails only its sender.
      this.stats.resentAlone += batch.length;
      await Promise.all(batch.map((waiter) => this.#sendAlone(waiter)));
      return;
    }
    const expected = batch.reduce((sum, waiter) => sum + waiter.commands.length, 0);
    if (!Array.isArray(items) || items.length !== expected) {
      const error = new errors.UpstashError(`pipeline answered ${describe(items)} for ${expected} commands`);
      for (const waiter of batch) waiter.reject(error);
      return;
    }
    let offset = 0;
    for (const waiter of batch) {
      waiter.resolve(items.slice(offset, offset + waiter.commands.length));
      offset += waiter.commands.length;
    }
  }

  #sendAlone(waiter: Waiter): Promise<void> {
    this.stats.requests++;
    return this.inner.request<unknown>({ path: ["pipeline"], body: waiter.commands }).then(
      (items) => waiter.resolve(items as unknown as UpstashResponse<unknown>[]),
      waiter.reject,
    );
  }
}

/** A plain `/pipeline` request: nothing per request (headers, signal, streaming) that merging would lose. */
function isMergeable(req: UpstashRequest): boolean {
  return req.path?.length === 1 && req.path[0] === "pipeline" && Array.isArray(req.body) &&
    req.body.length > 0 && req.headers === undefined && req.signal === undefined && !req.isStreaming &&
    req.onMessage === undefined && req.upstashSyncToken === undefined;
}

function describe(items: unknown): string {
  return Array.isArray(items) ? `${items.length} items` : typeof items;
}
