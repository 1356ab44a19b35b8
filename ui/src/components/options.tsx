// The options a model was trained with, under the names a training request uses (model.batchNorm.momentum),
// so that a run can be repeated by copying them.
function flatten(prefix: string, value: unknown, out: [string, string][]): [string, string][] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else {
    out.push([prefix, Array.isArray(value) ? `[${value.join(', ')}]` : String(value)]);
  }
  return out;
}

export function OptionsList({ options, caption }: { options: Record<string, unknown>; caption: string }) {
  const rows = flatten('', options, []);
  return (
    <div class="table-wrap">
      <table class="options">
        <caption>{caption}</caption>
        <tbody>
          {rows.map(([name, value]) => (
            <tr key={name}>
              <th scope="row">
                <code>{name}</code>
              </th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
