// Stand-ins: an object made on first use, by a Proxy that answers everything from the real one. Without zod,
// so the package entry (src/index.ts) can hand out its schemas this way without loading zod (see lazy.ts).

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

/** The real object behind a stand-in; anything else as it is. */
export function real<T extends object>(value: T): T {
  const get = realOf.get(value);
  return get === undefined ? value : (get() as T);
}

export interface StandInHooks<T> {
  /** Called once, when the real object is made. */
  onResolve?: (stand: T, target: T) => void;
  /** What the stand-in answers for `key`, given what the real object holds there. @default that value */
  answer?: (key: string | symbol, value: unknown, stand: T, target: T) => unknown;
}

/**
 * A stand-in for the object `get` returns (a schema, a shape of schemas, a state machine), made on first use.
 * Functions read from it are the real object's own, called with the stand-in as `this`, which answers as the
 * real one: zod's methods are closures over the schema anyway.
 */
export function standIn<T extends object>(get: () => T, hooks: StandInHooks<T> = {}): T {
  let target: T | undefined;
  const resolve = (): T => {
    if (target === undefined) {
      target = get();
      hooks.onResolve?.(stand, target);
    }
    return target;
  };
  const { answer } = hooks;
  const stand: T = new Proxy({} as T, {
    get: answer
      ? (_, key) => {
          const real = resolve();
          return answer(key, Reflect.get(real, key), stand, real);
        }
      : (_, key) => Reflect.get(resolve(), key),
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
