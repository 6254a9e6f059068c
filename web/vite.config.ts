import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// The UI is served by Twofold under /app/; `npm run dev` proxies the API to the server on :3000.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  plugins: [vue()],
  // No source maps in the build that is served: they would publish the UI's source (npm run dev has its own).
  // The password-strength dictionaries (zxcvbn-ts, about 1.2 MB for English) are one chunk, loaded
  // only when a password is typed: large on purpose, so the warning threshold sits above it.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1300 },
  server: {
    port: 5173,
    proxy: Object.fromEntries(
      ['/api', '/.well-known', '/docs', '/openapi.json'].map((path) => [path, 'http://127.0.0.1:3000']),
    ),
  },
});
