/**
 * Route selection of a WebSocket API. Only `$request.body.<field>[.<field>...]` is supported: it is the only
 * form this project's template uses, and a silent fallback for other forms would hide a mistake.
 */
export type RouteSelector = (body: string) => string | undefined;

const PREFIX = '$request.body.';
const SEGMENT = /^[A-Za-z0-9_$-]+$/;

export function compileRouteSelection(expression: string): RouteSelector {
  const path = expression.startsWith(PREFIX) ? expression.slice(PREFIX.length).split('.') : [];
  if (path.length === 0 || !path.every((segment) => SEGMENT.test(segment))) {
    throw new Error(
      `Unsupported routeSelectionExpression '${expression}': the local gateway supports only '$request.body.<field>'`,
    );
  }
  return (body) => selectField(body, path);
}

function selectField(body: string, path: readonly string[]): string | undefined {
  // Cheap pre-check: only a JSON object can carry the field, and most frames of a chat are objects anyway.
  if (!body.trimStart().startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return typeof value === 'string' ? value : undefined;
}
