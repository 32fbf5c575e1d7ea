// The management API, called with the signed-in user's access token.

/** An answer other than success: the problem's detail, and its field if any. */
export class ApiError extends Error {
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.field = problem.field || '';
    this.detail = problem.detail || '';
    this.requestId = problem.request_id || '';
  }
}

/**
 * Calls the API. getToken returns a fresh access token; on a 401 the call is
 * retried once with a renewed one (renew(true)).
 */
export function createApi(issuer, getToken, fetchImpl = (...a) => fetch(...a)) {
  async function once(method, path, body, headers, force) {
    const token = await getToken(force);
    const h = new Headers(headers);
    h.set('Authorization', `Bearer ${token}`);
    h.set('Accept', 'application/json');
    if (body !== undefined) h.set('Content-Type', 'application/json');
    let res;
    try {
      res = await fetchImpl(new URL(path, issuer), {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, { detail: 'Cannot reach orgauth. Check your connection and try again.' });
    }
    return res;
  }
  return async function call(method, path, body, headers) {
    let res = await once(method, path, body, headers, false);
    if (res.status === 401) res = await once(method, path, body, headers, true);
    const type = res.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await res.json().catch(() => ({})) : null;
    if (!res.ok) {
      if (res.status === 412) {
        throw new ApiError(412, { detail: 'Someone changed this credential since you opened it. Reload it and make your change again.' });
      }
      throw new ApiError(res.status, data ?? { detail: `orgauth answered ${res.status}` });
    }
    return { status: res.status, data, etag: res.headers.get('ETag') || '' };
  };
}
