import { z } from "zod";
import { standIn } from "./stand-in.ts";

// Our schemas are built the first time anything touches one, not at import: building all of them cost ~85 ms
// (warm compile cache, on top of zod's own ~110 ms) while a run uses only some (issue 15).
//
// Each exported schema is a stand-in (a Proxy) for the real one, which its module's builder makes on first use.
// Everything the stand-in is asked (`.parse`, `._zod`, `instanceof`, keys) is answered by the real schema, so
// parsing, composing (`.extend`, `.optional`, a field of another object) and the error messages are zod's own.
// Inside this folder, schemas are composed from the real ones (`real(...)`), so a parse never passes through a
// stand-in below the top.

/** zod, for the builders: `const z = zod()` at the top of a builder keeps its body as it was at module level. */
export const zod = (): typeof z => z;

export { once, real } from "./stand-in.ts";

/**
 * A stand-in for a schema (or a shape of schemas) that its module's builder makes on first use. Metadata
 * (`.describe()`, `.meta()`) is kept in zod's registry by schema identity: the stand-in of a schema reports the
 * same, so z.toJSONSchema(stand-in) says what z.toJSONSchema(real) does.
 */
export function lazy<T extends object>(get: () => T): T {
  return standIn(get, { onResolve: sameMetadata, answer: asSchema });
}

/** Registers `stand` with the metadata of the schema it stands for (none for a shape). */
export function sameMetadata(stand: object, target: object): void {
  if (!("_zod" in target)) return;
  const meta = z.globalRegistry.get(target as never);
  if (meta === undefined) return;
  // An id names one schema only; the real one keeps it.
  const { id: _id, ...rest } = meta;
  z.globalRegistry.add(stand as never, rest);
}

/** Each stand-in's view of its schema's `_zod`. */
const internals = new WeakMap<object, object>();

/**
 * What a schema's stand-in answers: the real schema's, except that its `_zod` (zod's internals) is seen through
 * a view. z.toJSONSchema keeps what it made of a schema by the schema's identity (the stand-in's), while the
 * JSON Schema makers of wrappers (a pipe, an optional, a default...) look it up by their own schema's (the real
 * one's): the view files the one under the other too, so z.toJSONSchema(stand-in of a pipe) works as on the pipe.
 */
export function asSchema(key: string | symbol, value: unknown, stand: object, target: object): unknown {
  if (key !== "_zod" || typeof value !== "object" || value === null || !("_zod" in target)) return value;
  let view = internals.get(stand);
  if (view === undefined) {
    view = new Proxy(value, {
      get(zodInternals, name) {
        const held: unknown = Reflect.get(zodInternals, name);
        if (name !== "processJSONSchema" || typeof held !== "function") return held;
        return (ctx: { seen: Map<object, unknown> }, ...rest: unknown[]) => {
          if (!ctx.seen.has(target) && ctx.seen.has(stand)) ctx.seen.set(target, ctx.seen.get(stand));
          return held(ctx, ...rest);
        };
      },
    });
    internals.set(stand, view);
  }
  return view;
}
