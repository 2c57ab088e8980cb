/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// The Go server embeds dist/ (see embed.go) and serves index.html for every non-API path and
// /assets/* with long caching, so every asset must carry a content hash and live under /assets/.
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  base: '/',
  build: {
    outDir: 'dist',
    // dist/.gitkeep is committed so go:embed has a folder before the first build; `prebuild`
    // removes the previous build instead.
    emptyOutDir: false,
    assetsDir: 'assets',
    target: 'es2020',
    // No inline polyfill script: the CSP forbids inline scripts, and every browser we target
    // supports modulepreload.
    modulePreload: { polyfill: false },
    // Keep tiny assets as files too: inlined data: URLs for fonts or scripts would fight the CSP.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/healthz': 'http://127.0.0.1:8080',
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts', 'src/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
  },
});
