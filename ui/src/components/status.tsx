// A job's status as a word with a colour (the word carries the meaning; the colour only helps).
import type { ModelStatusName } from '../api/types.js';

export function StatusBadge({ status }: { status: ModelStatusName }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

export function isActive(status: ModelStatusName): boolean {
  return status === 'queued' || status === 'running';
}
