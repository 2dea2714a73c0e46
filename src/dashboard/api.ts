/**
 * Talking to the daemon from the page. The token arrives once as `?token=`; it is moved at
 * once into this tab's sessionStorage and out of the address bar (history.replaceState), so it
 * is not left in history, bookmarks or a screenshot. Fetches send it as `Authorization:
 * Bearer`; EventSource cannot set headers, so /events gets it as `?token=` (which the daemon
 * accepts there and on `/` only).
 */

const KEY = "switchboard.token";

export function takeToken(loc: Location = location, store: Storage = sessionStorage): string | null {
  const url = new URL(loc.href);
  const given = url.searchParams.get("token");
  if (given !== null) {
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    if (given === "") store.removeItem(KEY);
    else store.setItem(KEY, given);
  }
  return store.getItem(KEY);
}

/** An answer that was not `{success: true}`: HTTP status plus the daemon's error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  readonly #token: string | null;

  constructor(token: string | null) {
    this.#token = token;
  }

  get hasToken(): boolean {
    return this.#token !== null;
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    const res = await fetch(path, { headers, cache: "no-store", ...(signal ? { signal } : {}) });
    let body: { success?: boolean; data?: T; error?: { code?: string; message?: string } };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new ApiError(res.status, "bad_answer", `${path}: HTTP ${res.status}, not JSON`);
    }
    if (!res.ok || body.success !== true) {
      throw new ApiError(
        res.status,
        body.error?.code ?? "error",
        body.error?.message ?? `HTTP ${res.status}`,
      );
    }
    return body.data as T;
  }

  /** The /events URL: types filter, resume point, and the token (query; see above). */
  eventsUrl(lastEventId: number | null): string {
    const q = new URLSearchParams();
    if (lastEventId !== null) q.set("lastEventId", String(lastEventId));
    if (this.#token) q.set("token", this.#token);
    const s = q.toString();
    return s ? `/events?${s}` : "/events";
  }
}
