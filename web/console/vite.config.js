import { defineConfig } from 'vite';

// The console is served by the console function at /console/ (pkg/endpoints/console),
// which embeds pkg/endpoints/console/dist/app. Everything is a file of its own under
// assets/ (no inline script or style), as the strict CSP requires.
export default defineConfig({
  base: '/console/',
  build: {
    outDir: '../../pkg/endpoints/console/dist/app',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    include: ['src/**/*.test.js'],
    environment: 'node',
  },
});
