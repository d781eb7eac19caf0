#!/usr/bin/env bash
# Makes this machine able to run the real-keychain tests (test/keychain, `npm run test:keychain`):
#   1. the Debian packages: libsecret-1-dev (keytar builds against it), gnome-keyring (the Secret Service the
#      tests talk to) and dbus (dbus-run-session); installed with apt-get only when missing, and only as root;
#   2. keytar built from source for the project's own Node (the `node` devDependency), against that Node's
#      headers, not the system Node's (`nodedir` in a user's .npmrc may point at those).
# Idempotent: installs nothing that is there and builds nothing that already loads.
# Exit 0: ready. Exit 3: cannot be made ready here (packages missing and not root): the caller skips the tests.
# Anything else: a real failure (apt-get or the keytar build failed), with its log printed.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(libsecret-1-dev gnome-keyring dbus)
NODE="$PWD/node_modules/.bin/node"
say() { echo "keychain-setup: $*"; }

if [[ ! -x "$NODE" ]]; then
  say "node_modules/.bin/node is missing: run 'npm ci' first." >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tokenhub-keychain-setup.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 1. System packages.
missing=()
if command -v dpkg-query >/dev/null; then
  for pkg in "${PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" == installed ]] || missing+=("$pkg")
  done
else
  # Not Debian: judge by what the packages provide.
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v dbus-run-session >/dev/null || missing+=(dbus)
  { command -v pkg-config >/dev/null && pkg-config --exists libsecret-1; } || missing+=(libsecret-1-dev)
fi
if ((${#missing[@]} > 0)); then
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
    say "missing ${missing[*]}, and this is not root with apt-get: cannot install them here." >&2
    say "skipping the real-keychain tests (install ${missing[*]} to run them)." >&2
    exit 3
  fi
  say "apt-get install ${missing[*]}"
  started=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$work/apt.log" 2>&1; then
    cat "$work/apt.log" >&2
    say "apt-get failed." >&2
    exit 1
  fi
  say "installed in $((SECONDS - started)) s"
else
  say "${PACKAGES[*]}: already installed"
fi

# 2. keytar for the project's Node.
node_version="$("$NODE" -p 'process.versions.node')"
# keytar uses N-API, so a build against another Node's headers (a plain `npm ci` with libsecret present and
# `nodedir=/usr`) loads too; still, build against the Node that runs it, which node-gyp records in config.gypi.
abi="$("$NODE" -p 'process.versions.modules')"
built_abi="$(grep -o '"node_module_version": [0-9]*' node_modules/keytar/build/config.gypi 2>/dev/null | grep -o '[0-9]*$' || true)"
if [[ "$built_abi" == "$abi" ]] && "$NODE" -e 'require("keytar")' 2>/dev/null; then
  say "keytar is built for Node $node_version and loads"
  exit 0
fi

# node-gyp takes a Node's headers from `nodedir` (a folder with include/node). The `node` devDependency's
# platform package ships them, but only until the next `npm install` prunes it as extraneous, so keep a copy
# in node_modules/.cache (left alone by npm, removed with node_modules); failing that, unpack them from the
# same package fetched through npm (its cache or the registry).
headers="$PWD/node_modules/.cache/tokenhub-setup/node-v$node_version-headers"
if [[ ! -f "$headers/include/node/node_api.h" ]]; then
  platform_pkg="$("$NODE" -p '`node-${process.platform}-${process.arch}`')"
  nested="$PWD/node_modules/node/node_modules/$platform_pkg"
  mkdir -p "$work/headers"
  if [[ -f "$nested/include/node/node_api.h" ]]; then
    cp -al "$nested/include" "$work/headers/" 2>/dev/null || cp -a "$nested/include" "$work/headers/"
  else
    say "fetching the Node $node_version headers ($platform_pkg@$node_version) through npm"
    (cd "$work" && npm pack --silent "$platform_pkg@$node_version" >pack.out 2>"$work/pack.log") || {
      cat "$work/pack.log" >&2
      exit 1
    }
    tar -xzf "$work/$(tail -n1 "$work/pack.out")" -C "$work" package/include
    mv "$work/package/include" "$work/headers/"
  fi
  mkdir -p "$(dirname "$headers")"
  rm -rf "$headers"
  mv "$work/headers" "$headers"
fi

# prebuild-install would try to download a prebuilt binary from GitHub: build from source straight away.
export npm_config_nodedir="$headers" npm_config_build_from_source=true
keytar_version="$("$NODE" -p 'require("./package.json").optionalDependencies.keytar')"
started=$SECONDS
if [[ -f node_modules/keytar/package.json ]]; then
  say "building keytar from source for Node $node_version (npm rebuild keytar)"
  npm rebuild keytar --foreground-scripts >"$work/build.log" 2>&1 || true
else
  # `npm ci` drops an optional dependency whose build failed (no libsecret then): put it back, same version.
  say "installing keytar@$keytar_version and building it from source for Node $node_version"
  npm install --no-save --no-audit --no-fund --foreground-scripts "keytar@$keytar_version" >"$work/build.log" 2>&1 || true
fi
if ! "$NODE" -e 'require("keytar")' 2>"$work/load.log"; then
  grep -v '^npm warn' "$work/build.log" | tail -n 40 >&2
  cat "$work/load.log" >&2
  say "keytar still does not load under Node $node_version." >&2
  exit 1
fi
say "keytar built for Node $node_version in $((SECONDS - started)) s"
