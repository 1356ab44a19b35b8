// multipart/form-data bodies as a browser or curl -F sends them (built by the platform's FormData), for
// app.inject and fetch.
export type FormEntry = [name: string, value: string] | [name: string, file: { filename: string; bytes: Uint8Array | string }];

export async function formBody(entries: FormEntry[]): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [name, value] of entries) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([Buffer.from(value.bytes)]), value.filename);
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), headers: { 'content-type': request.headers.get('content-type')! } };
}
