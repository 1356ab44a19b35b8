// The API key of this browser tab: asked for once when a call answers 401, kept in sessionStorage (this
// tab only, gone when it closes), sent by every request. Concurrent 401s share one question.
const STORAGE_KEY = 'bn-service.api-key';

export interface KeyQuestion {
  /** Why it is asked: the server's message (missing credentials, invalid API key). */
  reason: string;
}

let question: { reason: string; answer: Promise<string>; resolve: (key: string) => void; reject: (err: Error) => void } | null = null;
const listeners = new Set<(q: KeyQuestion | null) => void>();

function notify(): void {
  const q = question && { reason: question.reason };
  for (const fn of listeners) fn(q);
}

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

/** Resolves with the key the user enters; rejects when they dismiss the question. */
export function askForKey(reason: string): Promise<string> {
  if (question) {
    question.reason = reason;
    notify();
    return question.answer;
  }
  let resolve!: (key: string) => void;
  let reject!: (err: Error) => void;
  const answer = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  question = { reason, answer, resolve, reject };
  notify();
  return answer;
}

export function answerKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
  const q = question;
  question = null;
  notify();
  q?.resolve(key);
}

export function dismissKeyQuestion(error: Error): void {
  const q = question;
  question = null;
  notify();
  q?.reject(error);
}


/** Calls fn with the open question (or null) now and on every change; returns the unsubscribe. */
export function watchKeyQuestion(fn: (q: KeyQuestion | null) => void): () => void {
  listeners.add(fn);
  fn(question && { reason: question.reason });
  return () => listeners.delete(fn);
}
