// An error from the API as the user needs it: the server's message and the field it names.
import { ApiRequestError } from '../api/client.js';

export function ApiErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const problems =
    error instanceof ApiRequestError ? error.problems : [{ message: (error as Error).message ?? String(error), field: undefined }];
  const status = error instanceof ApiRequestError && error.status > 0 ? error.status : undefined;
  return (
    <div class="error" role="alert">
      <strong>
        {title ?? 'The request failed'}
        {status !== undefined && ` (${status})`}
      </strong>
      <ul>
        {problems.map((p, i) => (
          <li key={i}>
            {p.message}
            {p.field && (
              <>
                {' '}
                — field <code>{p.field}</code>
              </>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A failure the API reported as data (a failed job's error), not as an error answer. */
export function FailureBox({ title, message }: { title: string; message: string }) {
  return (
    <div class="error" role="alert">
      <strong>{title}</strong>
      <p class="pre">{message}</p>
    </div>
  );
}
