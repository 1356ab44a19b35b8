// onnxruntime-node's Linux and macOS builds send usage telemetry to Microsoft since 1.30 and leave a
// session file and a mat-debug-<pid>.log in TMPDIR; ORT_DISABLE_TELEMETRY=1 before the first load turns all
// of it off. Every loader of the package (inference and training) calls this first.

/** Telemetry off unless the environment already says otherwise (an explicit ORT_DISABLE_TELEMETRY=0 keeps it on). */
export function disableOrtTelemetryByDefault(): void {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
}
