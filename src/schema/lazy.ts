import { z } from "zod";

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

/** `build`, run once, on the first call. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

/** The real object behind each stand-in. */
const realOf = new WeakMap<object, () => object>();

/** The real schema (or shape) behind a stand-in made by `lazy`; anything else as it is. */
export function real<T extends object>(value: T): T {
  const get = realOf.get(value);
  return get === undefined ? value : (get() as T);
}

/**
 * A stand-in for the object `get` returns (a schema, or a shape of schemas), made on first use. Functions read
 * from it are the real object's own: zod's methods are closures over the schema, so `this` does not matter.
 */
export function lazy<T extends object>(get: () => T): T {
  let target: T | undefined;
  const resolve = (): T => {
    if (target === undefined) {
      target = get();
      // Metadata (`.describe()`, `.meta()`) is kept in zod's registry by schema identity: the stand-in of a
      // schema reports the same, so z.toJSONSchema(stand-in) says what z.toJSONSchema(real) does.
      const registry = "_zod" in target ? zod().globalRegistry : undefined;
      const meta = registry?.get(target as never);
      if (registry !== undefined && meta !== undefined) {
        // An id names one schema only; the real one keeps it.
        const { id: _id, ...rest } = meta;
        registry.add(stand as never, rest);
      }
    }
    return target;
  };
  const stand: T = new Proxy({} as T, {
    get: (_, key) => Reflect.get(resolve(), key),
    set: (_, key, value) => Reflect.set(resolve(), key, value),
    has: (_, key) => Reflect.has(resolve(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(resolve(), key),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(resolve(), key, descriptor),
    ownKeys: () => Reflect.ownKeys(resolve()),
    // The stand-in's own target is an empty object: a property it reports must be configurable (a Proxy rule).
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(resolve(), key);
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(resolve()),
  });
  realOf.set(stand, resolve);
  return stand;
}
