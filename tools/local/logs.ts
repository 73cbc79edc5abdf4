/**
 * Makes function logs readable in a terminal: Powertools writes one JSON object per line; this prints
 * `time LEVEL function message {other keys}`. Lines that are not JSON pass through as they are.
 */
const HIDDEN_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'cold_start',
]);

export type LogLevelName = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const RANK: Record<string, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, CRITICAL: 50 };

export function formatFunctionLog(functionName: string, line: string): { level: string; text: string } {
  let record: Record<string, unknown> | undefined;
  if (line.startsWith('{')) {
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      record = undefined;
    }
  }
  if (!record) return { level: 'INFO', text: `${clock()} ${'INFO'.padEnd(5)} ${functionName}: ${line}` };
  const level = String(record.level ?? 'INFO').toUpperCase();
  const time = typeof record.timestamp === 'string' ? record.timestamp.slice(11, 23) : clock();
  const extra = Object.fromEntries(Object.entries(record).filter(([k]) => !HIDDEN_KEYS.has(k)));
  const { error, ...fields } = extra as { error?: { stack?: string } };
  const details = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  const stack = error?.stack ? `\n${error.stack}` : '';
  return {
    level,
    text: `${time} ${level.padEnd(5)} ${functionName}: ${record.message ?? ''}${details}${stack}`,
  };
}

export function atLeast(level: string, threshold: LogLevelName): boolean {
  return (RANK[level] ?? RANK.INFO ?? 20) >= (RANK[threshold] ?? 20);
}

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}
