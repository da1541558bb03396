// isomorphic-git errors in words a user can act on. Matching on error codes happens here only.

export function describeGitError(err: unknown): string {
  const e = err as { code?: string; data?: { statusCode?: number; statusMessage?: string }; message?: string };
  if (e?.code === "HttpError" && e.data?.statusCode === 401) return "authentication failed (HTTP 401): check the access token";
  if (e?.code === "HttpError" && e.data?.statusCode === 403) return "access denied (HTTP 403): the token may not read this repository";
  if (e?.code === "HttpError" && e.data?.statusCode === 404) return "repository not found (HTTP 404): check the url";
  if (e?.code === "UserCanceledError") return "authentication failed: the access token was rejected";
  if (e?.code === "NotFoundError") return `not found: ${e.message ?? ""}`;
  return err instanceof Error ? err.message : String(err);
}

/** Removes credentials embedded in a URL before it appears in messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "***";
      u.password = "";
    }
    return u.toString();
  } catch {
    return url;
  }
}
