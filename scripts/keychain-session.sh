#!/usr/bin/env bash
# Runs a command inside a private D-Bus session whose Secret Service is gnome-keyring with the login collection
# unlocked: what a desktop gives keytar, without a desktop. With no command it runs the real-keychain tests
# (test/keychain). Everything the keyring writes goes to a temporary home (HOME and the XDG folders), removed
# afterwards; the tests scan it for plaintext keys. Needs dbus-run-session and gnome-keyring-daemon
# (scripts/keychain-setup.sh installs them). Used by `npm run test:keychain`.
#
#   TOKENHUB_KEYCHAIN_HOME      use this folder as the home instead of a temporary one (and leave it there)
#   TOKENHUB_KEYCHAIN_NO_LOGIN  start gnome-keyring without creating the login keyring (no default collection)
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in dbus-run-session gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null; then
    echo "keychain-session: $tool is missing: run scripts/keychain-setup.sh (as root) first." >&2
    exit 1
  fi
done

if [[ -n "${TOKENHUB_KEYCHAIN_HOME:-}" ]]; then
  home="$TOKENHUB_KEYCHAIN_HOME"
  mkdir -p "$home"
else
  home="$(mktemp -d "${TMPDIR:-/tmp}/tokenhub-keychain.XXXXXX")"
  trap 'rm -rf "$home"' EXIT
fi
mkdir -p "$home/run" && chmod 700 "$home" "$home/run"

if (($# == 0)); then
  set -- "$PWD/node_modules/.bin/node" --test --test-reporter=spec 'test/keychain/*.test.ts'
fi

# gnome-keyring-daemon --unlock reads the login keyring's password on stdin, creates the keyring on first use
# and unlocks it; it stays up for as long as the session bus does. The password guards a throw-away keyring.
# (As root in a container, dbus-daemon logs that it cannot raise its fd limit to 65536: harmless.)
status=0
env HOME="$home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache" \
  XDG_STATE_HOME="$home/state" XDG_RUNTIME_DIR="$home/run" \
  TOKENHUB_KEYCHAIN_TESTS=1 TOKENHUB_KEYCHAIN_HOME="$home" TOKENHUB_KEYCHAIN_PASSWORD=tokenhub-keychain-test \
  TOKENHUB_KEYCHAIN_NO_LOGIN="${TOKENHUB_KEYCHAIN_NO_LOGIN:-}" \
  dbus-run-session -- bash -c '
    if [[ -n "$TOKENHUB_KEYCHAIN_NO_LOGIN" ]]; then
      gnome-keyring-daemon --start --components=secrets >/dev/null
    else
      printf %s "$TOKENHUB_KEYCHAIN_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    fi
    exec "$@"' keychain-session "$@" || status=$?
exit "$status"
