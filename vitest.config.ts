import { defineConfig } from "vitest/config";

const conditions = ["@flotilla/source"];
const roots = ["libs/*/test", "services/*/test", "agents/*/test", "tests/*/test"];

// One vitest run for the whole monorepo. Two projects:
// - unit: pure code, Postgres and NATS (no Kubernetes);
// - kube: files named *.kube.test.ts; they share one real control plane started by the global
//   setup (a fresh namespace per test), and may start more for multi-cluster tests.
// `vitest run --project unit` runs without starting a control plane.
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 240_000,
    teardownTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: roots.map((r) => `${r}/**/*.test.ts`),
          exclude: ["**/node_modules/**", "**/*.kube.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "kube",
          include: roots.map((r) => `${r}/**/*.kube.test.ts`),
          globalSetup: ["libs/testkit/src/vitest-global-setup.ts"],
          // Kubernetes tests share two cores with a whole control plane: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
