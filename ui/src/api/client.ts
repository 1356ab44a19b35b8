// Every call the dashboard makes to the API goes through `send`: same origin, the tab's API key as a bearer
// token, a 401 answered by asking for the key and trying again, errors turned into ApiRequestError with the
// server's message and field.
import { askForKey, storedKey } from './api-key.js';

/** One problem the server reported; a 400 may list several. */
export interface FieldProblem {
  field?: string;
  message: string;
}

export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  constructor(
    /** HTTP status; 0 when the service did not answer at all. */
    readonly status: number,
    message: string,
    readonly field?: string,
    /** Every problem when the server lists several (`errors`), else just this one. */
    readonly problems: FieldProblem[] = [{ field, message }],
  ) {
    super(message);
  }
}

export async function apiErrorOf(res: Response): Promise<ApiRequestError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    const b = body as { message: string; field?: unknown; errors?: unknown };
    const field = typeof b.field === 'string' ? b.field : undefined;
    const listed = Array.isArray(b.errors)
      ? b.errors
          .filter((e): e is { message: string; field?: unknown } => !!e && typeof e === 'object' && typeof e.message === 'string')
          .map((e) => ({ message: e.message, field: typeof e.field === 'string' ? e.field : undefined }))
      : [];
    return new ApiRequestError(res.status, b.message, field, listed.length > 0 ? listed : undefined);
  }
  const reason = text.trim().slice(0, 200) || res.statusText;
  return new ApiRequestError(res.status, `${res.status} ${reason}`);
}

/** fetch with the API key; on 401 asks for a key and retries until the server accepts one or the user gives up. */
export async function send(path: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const headers = new Headers(init.headers);
    const key = storedKey();
    if (key) headers.set('authorization', `Bearer ${key}`);
    let res: Response;
    try {
      res = await fetch(path, { ...init, headers });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiRequestError(0, `the service did not answer (${(err as Error).message}); is it running?`);
    }
    if (res.status !== 401) return res;
    const error = await apiErrorOf(res);
    // Resolves once the user has entered a key; the request is then sent again with it.
    await askForKey(error.message).catch(() => {
      throw error;
    });
  }
}

/** A JSON call: the parsed body of a 2xx answer, else ApiRequestError. */
export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set('accept', 'application/json');
  if (json !== undefined) headers.set('content-type', 'application/json');
  const res = await send(path, { ...rest, headers, ...(json !== undefined && { body: JSON.stringify(json) }) });
  if (!res.ok) throw await apiErrorOf(res);
  return (await res.json()) as T;
}

