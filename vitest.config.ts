import { defineConfig } from "vitest/config";

// One vitest run for the whole monorepo, so every test file shares one real control plane
// (started by the global setup) and a fresh namespace per test.
export default defineConfig({
  resolve: { conditions: ["@flotilla/source"] },
  ssr: { resolve: { conditions: ["@flotilla/source"] } },
  test: {
    include: [
      "libs/*/test/**/*.test.ts",
      "services/*/test/**/*.test.ts",
      "agents/*/test/**/*.test.ts",
      "tests/*/test/**/*.test.ts",
    ],
    globalSetup: ["libs/testkit/src/vitest-global-setup.ts"],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 240_000,
    teardownTimeout: 60_000,
  },
});
