// The catalog's SQL calls (supabase/migrations/20261122060002_create_packages.sql), with the SQLSTATEs
// those functions raise turned into typed errors here, in one place.
import { translateNotAdmin } from "./admin_authority.ts";
import type { Sql } from "./db.ts";
import type { EventMetadata } from "./event_store.ts";

export type CatalogPackage = {
  id: string;
  name: string;
  priceMinor: number;
  currency: string;
  dailyRateBps: number;
  durationDays: number;
};
export type PackageJson = CatalogPackage & { status: "active" | "retired" };

export type NewPackage = Omit<CatalogPackage, "id">;

/** The catalog is small by nature; a page this large is a configuration mistake, not a catalog. */
export const CATALOG_SIZE_MAX = 200;

export class CurrencyNotAcceptedError extends Error {
  override name = "CurrencyNotAcceptedError";
}
export class UnknownPackageError extends Error {
  override name = "UnknownPackageError";
}
export class PackageAlreadyRetiredError extends Error {
  override name = "PackageAlreadyRetiredError";
}
export class PackageExistsError extends Error {
  override name = "PackageExistsError";
}

/** SQLSTATEs raised by the catalog and purchase SQL functions. */
export const MONEY_SQLSTATE = { unprocessable: "MO422", notFound: "MO404", conflict: "MO409" } as const;
const WRONG_EXPECTED_VERSION = "ES409";

function translate(error: unknown): unknown {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code === MONEY_SQLSTATE.unprocessable) return new CurrencyNotAcceptedError(message ?? "currency");
  if (code === MONEY_SQLSTATE.notFound) return new UnknownPackageError(message ?? "unknown package");
  if (code === MONEY_SQLSTATE.conflict) return new PackageAlreadyRetiredError(message ?? "retired");
  if (code === WRONG_EXPECTED_VERSION) return new PackageExistsError(message ?? "exists");
  return translateNotAdmin(error);
}

export function listActivePackages(sql: Sql): Promise<CatalogPackage[]> {
  return sql<CatalogPackage[]>`
    select package_id as id, name, price_minor as "priceMinor", currency, daily_rate_bps as "dailyRateBps",
           duration_days as "durationDays"
    from public.packages
    where status = 'active'
    order by price_minor, package_id
    limit ${CATALOG_SIZE_MAX}`;
}

export async function findActivePackage(sql: Sql, packageId: string): Promise<CatalogPackage | null> {
  const [row] = await sql<CatalogPackage[]>`
    select package_id as id, name, price_minor as "priceMinor", currency, daily_rate_bps as "dailyRateBps",
           duration_days as "durationDays"
    from public.packages
    where package_id = ${packageId}::uuid and status = 'active'`;
  return row ?? null;
}

export async function loadPackage(sql: Sql, packageId: string): Promise<PackageJson | null> {
  const [row] = await sql<{ p: PackageJson | null }[]>`select money.package_json(${packageId}::uuid) as p`;
  return row?.p ?? null;
}

export async function publishPackage(
  sql: Sql,
  packageId: string,
  input: NewPackage,
  metadata: EventMetadata,
): Promise<PackageJson> {
  try {
    const [row] = await sql<{ p: PackageJson }[]>`
      select money.publish_package(${packageId}::uuid, ${input.name}, ${input.priceMinor}, ${input.currency},
        ${input.dailyRateBps}, ${input.durationDays}, ${sql.json(metadata as never)}) as p`;
    return row!.p;
  } catch (error) {
    throw translate(error);
  }
}

export async function retirePackage(
  sql: Sql,
  packageId: string,
  metadata: EventMetadata,
): Promise<PackageJson> {
  try {
    const [row] = await sql<{ p: PackageJson }[]>`
      select money.retire_package(${packageId}::uuid, ${sql.json(metadata as never)}) as p`;
    return row!.p;
  } catch (error) {
    throw translate(error);
  }
}
