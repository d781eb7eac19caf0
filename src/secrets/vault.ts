import { inspect } from "node:util";
import type { SecretKey } from "./key.ts";

/**
 * A session's key holder: the key handed over in an event (held only in memory) and the key in use.
 * Machine context records which source and fingerprint were used, never the value; the vault is what the
 * actors read at request time.
 */
export class KeyVault {
  #handedOver: SecretKey | undefined;
  #current: SecretKey | undefined;

  /** A key from KEY_PROVIDED; it replaces an earlier one. */
  handOver(key: SecretKey): void {
    this.#handedOver = key;
  }

  get handedOver(): SecretKey | undefined {
    return this.#handedOver;
  }

  use(key: SecretKey): void {
    this.#current = key;
  }

  get current(): SecretKey | undefined {
    return this.#current;
  }

  clear(): void {
    this.#handedOver = undefined;
    this.#current = undefined;
  }

  toJSON(): string {
    return "KeyVault([redacted])";
  }

  [inspect.custom](): string {
    return "KeyVault([redacted])";
  }
}
