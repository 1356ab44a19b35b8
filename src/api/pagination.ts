// The one cursor scheme of every list route (models, training jobs, datasets): items newest first
// (createdAt, then id, both descending); the cursor is opaque to clients and names the last item of
// the page before; `limit` defaults to DEFAULT_LIMIT and is at most MAX_LIMIT.
import { Type } from 'typebox';
import { ApiError } from './plugins/app/errors.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export const PageQuery = {
  limit: Type.Optional(
    Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: `Items per page, 1-${MAX_LIMIT} (default ${DEFAULT_LIMIT})` }),
  ),
  cursor: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9_-]{1,400}$', description: 'nextCursor of the page before; absent: the newest items' }),
  ),
};

export const NextCursor = Type.Optional(Type.String({ description: 'Present when more items follow: pass it as ?cursor=' }));

interface Position {
  createdAt: string;
  id: string;
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.createdAt, p.id])).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // answered below
  }
  throw new ApiError(400, 'cursor is not one this server gave out; pass the nextCursor of a page unchanged', 'cursor');
}

/** Newest first: createdAt descending, then id descending. */
export function newestFirst<T>(position: (item: T) => Position): (a: T, b: T) => number {
  return (x, y) => {
    const a = position(x);
    const b = position(y);
    if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
    return a.id === b.id ? 0 : a.id < b.id ? 1 : -1;
  };
}

/** The items (sorted newest first) after the cursor's position. */
export function after<T>(sorted: readonly T[], cursor: string | undefined, position: (item: T) => Position): readonly T[] {
  if (cursor === undefined) return sorted;
  const from = decodeCursor(cursor);
  const compare = newestFirst<Position>((p) => p);
  const start = sorted.findIndex((item) => compare(position(item), from) > 0);
  return start < 0 ? [] : sorted.slice(start);
}

export function pageLimit(limit: string | undefined): number {
  return limit === undefined ? DEFAULT_LIMIT : Number(limit);
}

/** One page of a sorted list. */
export function page<T>(sorted: readonly T[], query: { limit?: string; cursor?: string }, position: (item: T) => Position): { items: T[]; nextCursor?: string } {
  const rest = after(sorted, query.cursor, position);
  const limit = pageLimit(query.limit);
  const items = rest.slice(0, limit);
  return rest.length > limit ? { items, nextCursor: encodeCursor(position(items[items.length - 1])) } : { items };
}
