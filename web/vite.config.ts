/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API during `npm run dev` (folio serve --port 8830); the built dashboard is served by
// the API itself at /app, so production needs no proxy.
const API = process.env.FOLIO_API ?? "http://127.0.0.1:8830";
const API_PREFIXES = ["/auth", "/users", "/portfolios", "/market", "/strategies", "/signals", "/backtests", "/admin", "/jobs", "/broker", "/health"];

export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(API_PREFIXES.map((p) => [p, { target: API, changeOrigin: false }])),
  },
  test: {
    environment: "happy-dom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    restoreMocks: true,
  },
});
