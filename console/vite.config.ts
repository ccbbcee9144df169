import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The admin console. `base: './'` makes every asset URL relative, so the same build works wherever the
 * Function app serves it (/api/console/ in Azure and in `npm run dev`).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    // The console talks to one API; one small CSS file and a few chunks need no inlining tricks.
    assetsInlineLimit: 0,
  },
});
