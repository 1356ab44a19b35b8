// The dashboard's build: Preact pages and Vega-Lite charts bundled into dist/ui, served by the API at /ui
// (src/api/plugins/external/static-ui.ts). Everything the page loads is in the bundle: no CDN, no web fonts.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/ui/',
  publicDir: false,
  // Preact's automatic JSX runtime, without a framework plugin (no Babel, no dev-only refresh code).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // `npx vite ui`: the pages from source with live reload, the API of a service running on port 3000.
  server: { proxy: { '/v1': 'http://127.0.0.1:3000', '/docs': 'http://127.0.0.1:3000' } },
  build: {
    outDir: here('../dist/ui'),
    emptyOutDir: true,
    target: 'es2022',
    // One chunk per lazily loaded part (the chart engine is large and only needed where a chart is shown).
    chunkSizeWarningLimit: 2048,
    // No inline <script> or data: URLs for small assets: the CSP allows files from 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
