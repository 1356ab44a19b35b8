// The API-key question: a modal dialog (focus kept inside, Escape dismisses) shown when a call answers 401.
import { useEffect, useRef, useState } from 'preact/hooks';
import { answerKey, dismissKeyQuestion, watchKeyQuestion, type KeyQuestion } from '../api/api-key.js';
import { ApiRequestError } from '../api/client.js';

export function KeyDialog() {
  const [question, setQuestion] = useState<KeyQuestion | null>(null);
  const [key, setKey] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => watchKeyQuestion(setQuestion), []);
  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (question && !el.open) el.showModal();
    if (!question && el.open) el.close();
  }, [question]);

  const submit = (e: Event) => {
    e.preventDefault();
    const value = key.trim();
    if (!value) return;
    setKey('');
    answerKey(value);
  };
  const dismiss = () => dismissKeyQuestion(new ApiRequestError(401, question?.reason ?? 'an API key is needed', 'Authorization'));

  return (
    <dialog ref={dialog} class="key-dialog" aria-labelledby="key-title" onCancel={dismiss}>
      <form method="dialog" onSubmit={submit}>
        <h2 id="key-title">API key</h2>
        <p>
          This service needs an API key (<code>API_KEYS</code>). It is kept for this browser tab only and sent with every
          request.
        </p>
        {question && (
          <p class="key-reason" role="status">
            The server said: {question.reason}
          </p>
        )}
        <label for="api-key">Key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="off" required value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        <div class="actions">
          <button type="submit">Use this key</button>
          <button type="button" class="secondary" onClick={dismiss}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
