// A job's status as a word with a colour (the word carries the meaning; the colour only helps).
import type { JobStatusName } from '../api/types.js';

export function StatusBadge({ status }: { status: JobStatusName }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

export function isActive(status: JobStatusName): boolean {
  return status === 'queued' || status === 'running';
}
