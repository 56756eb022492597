'use strict';
// Load generation (autocannon, in this process) and the small HTTP helpers around it.
const autocannon = require('autocannon');

/** One JSON request; throws unless the status is `expect`. */
async function call(base, method, path, { token, body, expect = 200 } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== expect) {
    throw new Error(`${method} ${path} answered ${res.status} (expected ${expect}): ${text.slice(0, 300)}`);
  }
  return text ? JSON.parse(text) : undefined;
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Runs autocannon for `duration` seconds. Latencies are recorded here from each 2xx
 * response (autocannon's own histogram rounds to whole milliseconds).
 */
async function load({ url, path, method = 'GET', headers = {}, setupClient, connections, duration }) {
  const latencies = [];
  const instance = autocannon({ url: url + path, method, headers, setupClient, connections, duration });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  return {
    requests: result.requests.total,
    // Including those still in flight at the end: the server serves them too.
    sent: result.requests.sent,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
  };
}

/**
 * A setupClient that gives each connection its own refresh-token chain (one token of
 * `tokens` each: as many as connections): every 200 response's new refreshToken becomes
 * that connection's next request body.
 */
function refreshChains(tokens) {
  let next = 0;
  return (client) => {
    let token = tokens[next++];
    client.setRequests([
      {
        method: 'POST',
        path: '/auth/refresh',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: token }),
        onResponse: (status, text) => {
          if (status !== 200) return; // the chain is broken; the non-2xx count shows it
          token = JSON.parse(text).refreshToken;
          client.setBody(JSON.stringify({ refreshToken: token }));
        },
      },
    ]);
  };
}

/**
 * Sends each token of `tokens` once, as `Authorization: Bearer`, to GET `path` over
 * `connections` connections; returns how many answers of each status came back.
 */
async function sweep({ url, path, tokens, connections }) {
  let next = 0;
  const result = await autocannon({
    url: url + path,
    connections: Math.min(connections, tokens.length),
    amount: tokens.length,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }) }],
  });
  return {
    sent: result.requests.sent,
    rps: result.requests.total / result.duration,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
    errors: result.errors + result.timeouts,
  };
}

module.exports = { call, load, refreshChains, sweep };
