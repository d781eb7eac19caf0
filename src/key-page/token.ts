/**
 * The link's one-time token: the only thing between a local web page and the form that keeps a key. It is the
 * whole secret of the link (the port is guessable), so it is long, random and compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** 32 random bytes: 256 bits, twice the 128 a guess-proof token needs. */
const TOKEN_BYTES = 32;

/** A fresh token, URL-safe as it is (base64url, 43 characters). */
export function createToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

/**
 * Whether `candidate` is `token`, in time that depends on neither. Both are hashed first: timingSafeEqual
 * needs equal lengths, and comparing lengths directly would tell a prober how long the token is.
 */
export function tokenMatches(candidate: string, token: string): boolean {
  return timingSafeEqual(digest(candidate), digest(token));
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
