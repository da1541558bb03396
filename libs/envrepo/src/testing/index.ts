// @flotilla/envrepo/testing: a real Git HTTP server and work-repository helpers for tests and the demo.
export { startGitHttpServer, GIT_HTTP_BACKEND, type GitHttpServer, type GitHttpServerOptions } from "./git-http-server.js";
export { createWorkRepo, commitFiles, pushWorkRepo, readFilesFrom, TEST_AUTHOR, type FileChanges } from "./work-repo.js";
export { revertCommit } from "../revert.js";
