import { describe, expect, it } from 'vitest';
import { ApiError, createApi } from './api.js';

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

describe('api', () => {
  it('sends the bearer token and returns the data and ETag', async () => {
    const seen = [];
    const call = createApi('http://127.0.0.1:3000', async () => 'tok', async (url, init) => {
      seen.push([String(url), init.method, init.headers.get('Authorization'), init.body]);
      return json(200, { id: 'o' }, { ETag: '"3"' });
    });
    const r = await call('PATCH', '/applications/a', { name: 'x' }, { 'If-Match': '"2"' });
    expect(r).toEqual({ status: 200, data: { id: 'o' }, etag: '"3"' });
    expect(seen).toEqual([['http://127.0.0.1:3000/applications/a', 'PATCH', 'Bearer tok', '{"name":"x"}']]);
  });

  it('renews the token once on a 401', async () => {
    const forced = [];
    let n = 0;
    const call = createApi('http://x', async (force) => { forced.push(force); return `t${forced.length}`; }, async () => {
      n += 1;
      return n === 1 ? json(401, { detail: 'expired' }) : json(200, {});
    });
    await call('GET', '/applications');
    expect(forced).toEqual([false, true]);
  });

  it('turns problem+json into an ApiError with its field', async () => {
    const call = createApi('http://x', async () => 't', async () =>
      new Response(JSON.stringify({ status: 400, detail: 'logout_urls[1]: must be an absolute URL', field: 'logout_urls[1]', request_id: 'r1' }), {
        status: 400, headers: { 'Content-Type': 'application/problem+json' },
      }));
    const err = await call('POST', '/applications', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.field, err.requestId]).toEqual([400, 'logout_urls[1]', 'r1']);
  });

  it('says so when orgauth cannot be reached', async () => {
    const call = createApi('http://x', async () => 't', async () => { throw new TypeError('fetch failed'); });
    const err = await call('GET', '/applications').catch((e) => e);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/Cannot reach orgauth/);
  });
});
