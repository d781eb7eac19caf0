export { describeSource, fingerprintOf, parseKey, SecretKey } from "./key.ts";
export { createKeychain, type Keychain } from "./keychain.ts";
export { forgetSecret, REDACTED, registerSecret, scrub, scrubDeep, scrubError } from "./scrubber.ts";
export { ENV_VAR, type KeySources, type Resolution, resolveKey } from "./sources.ts";
