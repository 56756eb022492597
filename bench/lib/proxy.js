'use strict';
// A TCP proxy on loopback in front of PostgreSQL, for the silent-partition run: `silence()`
// stops everything flowing on open connections without closing them (no RST, no FIN) and
// leaves new ones unanswered, as a dead switch would.
const net = require('node:net');

async function startProxy(targetHost, targetPort) {
  const pairs = new Set();
  let silent = false;
  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (silent) return client.pause();
    const upstream = net.connect(targetPort, targetHost);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair = [client, upstream];
    pairs.add(pair);
    client.on('close', () => (pairs.delete(pair), upstream.destroy()));
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    silence() {
      silent = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close() {
      for (const [client, upstream] of pairs) (client.destroy(), upstream.destroy());
      server.close();
    },
  };
}

module.exports = { startProxy };
