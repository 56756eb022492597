'use strict';
// Turns the measurements into the markdown printed at the end (and pasted in the README).

const num = (v, digits = 0) =>
  v === undefined || Number.isNaN(v) ? '—' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function runRow(id, run) {
  if (run.error) return [id, run.label, '—', '—', '—', '—', `failed: ${run.error.split('\n')[0].slice(0, 100)}`];
  const notes = run.valid ? '' : `INVALID: ${run.failed} of ${run.requests} failed, statuses ${JSON.stringify(run.statuses)}`;
  const queries = run.db ? num(run.db.perRequest, 2) : '—';
  return [id, run.label, num(run.rps), num(run.p50, 1), num(run.p99, 1), queries, notes];
}

function markdown(report) {
  const { machine, settings, runs, ratios, revocation, targets } = report;
  const out = [];
  out.push(
    `Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, PostgreSQL ${machine.postgres} (${machine.database}), ${machine.os}.`,
    `Load: autocannon in the harness process, ${settings.connections} connections, ${settings.duration} s per run after a ${settings.warmup} s warm-up; production defaults (NODE_ENV=production, LOG_LEVEL=info: access log on); DB queries counted with ${settings.queryCounting}.`,
    '',
  );
  out.push(
    table(
      ['#', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'DB queries/req', 'notes'],
      Object.entries(runs).map(([id, run]) => runRow(id, run)),
    ),
    '',
  );
  out.push(
    table(
      ['ratio', 'value'],
      Object.entries(ratios).map(([name, v]) => [name, v === undefined ? '—' : `${num(v, 2)}×`]),
    ),
    '',
  );
  const rev = !revocation
    ? 'not measured'
    : revocation.error
      ? `failed: ${revocation.error.split('\n')[0]}`
      : `median ${num(revocation.medianMs, 1)} ms, max ${num(revocation.maxMs, 1)} ms over ${revocation.rounds.length} force-logouts`;
  out.push(`Revocation (force-logout on instance A → first 401 on instance B): ${rev}.`, '');
  const { partition } = report;
  const part = !partition
    ? 'not measured'
    : partition.error
      ? `failed: ${partition.error.split('\n')[0]}`
      : `max ${num(partition.maxMs)} ms and ${partition.maxAccepted} request(s) answered 200 after the force-logout (rounds: ${partition.rounds.map((r) => `${num(r.ms)} ms / ${r.accepted}`).join(', ')})`;
  out.push(`Silent partition of B's LISTEN connection (REVOCATION_MAX_STALENESS=1s), force-logout on A → first 401 on B: ${part}.`, '');
  const { outbox } = report;
  const logouts = (r) => `${num(r.perSecond)} logouts/s (p50 ${num(r.p50, 1)} ms, p99 ${num(r.p99, 1)} ms)`;
  const vs = (r) => `${num(r.perSecond / outbox.without.perSecond, 2)}×`;
  const ob = !outbox
    ? 'not measured'
    : outbox.error
      ? `failed: ${outbox.error.split('\n')[0]}`
      : `no rows ${logouts(outbox.without)}; two rows a logout (a webhook and a back-channel client), the receiver stalled so that only the rows count, ` +
        `${logouts(outbox.stalled)} (${vs(outbox.stalled)}); the same delivered as they come, on the same two cores, ${logouts(outbox.live)} (${vs(outbox.live)}), ` +
        `the last delivery ${num(outbox.live.drainedMsAfterLast)} ms after the last logout's answer. Once released, the worker delivered ${num(outbox.drain.perSecond)} deliveries/s`;
  out.push(
    `Outbox (${outbox?.without?.logouts ?? '—'} POST /auth/logout, 10 at a time, ${outbox?.without?.rounds ?? '—'} alternating rounds of each kind, means): ${ob}.`,
    '',
  );
  const { signIns } = report;
  const signInLine = (r) => `${num(r.perSecond, 1)} sign-ins/s (p50 ${num(r.p50, 1)} ms, p99 ${num(r.p99, 1)} ms)`;
  const si = !signIns
    ? 'not measured'
    : signIns.error
      ? `failed: ${signIns.error.split('\n')[0]}`
      : `password ${signInLine(signIns.password)}; password + TOTP (two requests) ${signInLine(signIns.twoStep)}, ` +
        `${num(signIns.twoStep.perSecond / signIns.password.perSecond, 2)}× the password's rate; ` +
        `usernameless passkey (options, then the assertion) ${signInLine(signIns.passkey)}, ` +
        `${num(signIns.passkey.perSecond / signIns.password.perSecond, 2)}× the password's rate`;
  out.push(
    `Sign-in (${signIns?.password?.signIns ?? '—'} of each kind, ${signIns?.concurrency ?? '—'} at a time, ${signIns?.password?.rounds ?? '—'} alternating rounds, means): ${si}.`,
    '',
  );
  out.push(...memoryLines(report.memory));
  out.push(
    table(
      ['target (not asserted)', 'measured', 'met'],
      targets.map((t) => [t.target, t.measured, t.met === undefined ? '—' : t.met ? 'yes' : 'no']),
    ),
  );
  return out.join('\n');
}

const mb = (bytes) => num(bytes / 1024 / 1024, 1);

/** The memory run: what the heap holds at each stage, and per entry of the two bounded structures. */
function memoryLines(memory) {
  if (!memory) return ['Memory: not measured.', ''];
  const lines = ['Memory of one instance (heap after a full collection; instance M):', ''];
  if (memory.stages.length) {
    const [start] = memory.stages;
    lines.push(
      table(
        ['stage', 'heap MB', 'RSS MB', 'verification cache', 'revocation window', 'notes'],
        memory.stages.map((s) => [
          s.stage,
          mb(s.heapUsed),
          mb(s.rss),
          num(s.verifiedTokens),
          num(s.revocationWindow),
          [s.rps && `${num(s.rps)} req/s`, s.refused].filter(Boolean).join('; '),
        ]),
      ),
      '',
    );
    const [, filled, , ended] = memory.stages;
    if (filled?.verifiedTokens) lines.push(`Per cached token: ${num((filled.heapUsed - start.heapUsed) / filled.verifiedTokens)} bytes of heap.`);
    if (ended?.revocationWindow && filled)
      lines.push(
        `Per revocation-window entry: ${num((ended.heapUsed - memory.stages[2].heapUsed) / (ended.revocationWindow - memory.stages[2].revocationWindow))} bytes of heap.`,
      );
    lines.push('');
  }
  if (memory.error) lines.push(`Memory run failed: ${memory.error.split('\n')[0]}`, '');
  return lines;
}

module.exports = { markdown, num };
