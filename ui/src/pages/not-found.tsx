import { useTitle } from '../components/use-title.js';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page here. Go to the <a href="/ui/models">models</a>, start a <a href="/ui/jobs/new">new job</a> or
        upload a <a href="/ui/datasets">dataset</a>.
      </p>
    </section>
  );
}
