import { describe, expect, it } from 'vitest';
import * as f from './format.js';

describe('format', () => {
  it('splits lines and words', () => {
    expect(f.lines(' https://a.example/cb \n\n http://127.0.0.1:8080/cb\r\n')).toEqual(['https://a.example/cb', 'http://127.0.0.1:8080/cb']);
    expect(f.words('read:a  write:a,admin')).toEqual(['read:a', 'write:a', 'admin']);
    expect(f.lines(undefined)).toEqual([]);
  });

  it('adds and takes out a chosen scope, keeping the others', () => {
    expect(f.toggleWord('read:a write:a', 'admin:b', true)).toEqual('read:a write:a admin:b');
    expect(f.toggleWord('read:a write:a', 'read:a', false)).toEqual('write:a');
    expect(f.toggleWord('read:a', 'read:a', true)).toEqual('read:a');
    expect(f.toggleWord('', 'x', false)).toEqual('');
  });

  it('puts a problem beside its field, with the line of a list entry', () => {
    expect(f.fieldOf('callback_urls[2]')).toEqual({ name: 'callback_urls', line: 3 });
    expect(f.fieldOf('name')).toEqual({ name: 'name', line: 0 });
    expect(f.fieldOf('weird field')).toEqual({ name: '', line: 0 });
    expect(f.fieldMessage({ field: 'callback_urls[0]', detail: 'callback_urls[0]: must not contain a fragment' }))
      .toEqual({ name: 'callback_urls', text: 'Line 1: Must not contain a fragment' });
    expect(f.fieldMessage({ field: 'name', detail: 'name: is required' })).toEqual({ name: 'name', text: 'Is required' });
  });

  it('says "you" only for the creator, who alone may change', () => {
    const app = { created_by: 'user-1' };
    expect(f.createdBy(app, 'user-1')).toBe('you');
    expect(f.createdBy(app, 'user-2')).toBe('user-1');
    expect(f.mayChange(app, 'user-1')).toBe(true);
    expect(f.mayChange(app, 'user-2')).toBe(false);
    expect(f.mayChange(app, undefined)).toBe(false);
  });

  it('builds create and update bodies', () => {
    const values = { name: ' Shop ', description: '', callback_urls: 'https://a.example/cb\n', allowed_origins: 'https://a.example', logout_urls: '', access_token_lifetime: '900', scopes: 'read write' };
    expect(f.applicationBody(values, { type: 'spa', create: true })).toEqual({
      name: 'Shop', description: '', type: 'spa', callback_urls: ['https://a.example/cb'], allowed_origins: ['https://a.example'],
      logout_urls: [], scopes: ['read', 'write'], access_token_lifetime: 900,
    });
    const m2m = f.applicationBody({ ...values, access_token_lifetime: '' }, { type: 'm2m', create: false });
    expect(m2m).toEqual({ name: 'Shop', description: '', scopes: ['read', 'write'] });
    // A lifetime that is not a number goes to the API as typed, which names the field.
    expect(f.applicationBody({ name: 'x', access_token_lifetime: 'soon' }, { type: 'm2m' }).access_token_lifetime).toBe('soon');
    expect(f.applicationBody({ name: 'x', token_reuse: 'off' }, { type: 'm2m' }).token_reuse).toBe(false);
    expect(f.tokenUsage({ m2m_token_quota: 1000000, m2m_tokens_this_month: 1234 })).toBe('1,234 of 1,000,000 M2M tokens this month (0.1%)');
    expect(f.tokenUsage({ m2m_token_quota: 100, m2m_tokens_this_month: 150 })).toBe('150 of 100 M2M tokens this month (100%)');
    expect(f.tokenUsage({ m2m_token_quota: 0 })).toBeNull();
    expect(f.applicationBody({ name: 'x', token_reuse: 'on' }, { type: 'm2m' }).token_reuse).toBe(true);
    expect(f.applicationBody({ name: 'x', token_reuse: 'off' }, { type: 'spa' }).token_reuse).toBeUndefined();
  });

  it('labels durations, plans and types', () => {
    expect(f.duration(3600)).toBe('1 hour');
    expect(f.duration(86400 * 7)).toBe('7 days');
    expect(f.duration(90)).toBe('90 seconds');
    expect(f.duration(120)).toBe('2 minutes');
    expect(f.planLabel('enterprise_large')).toBe('Enterprise Large');
    expect(f.typeLabel('m2m')).toBe('M2M OAuth Client');
    expect(f.when('2026-03-12T10:00:09Z', 'en-US')).toMatch(/Mar 12, 2026/);
    expect(f.when('not a date')).toBe('not a date');
  });

  it('returns only to console paths after sign-in', () => {
    expect(f.safeReturnPath('/console/credentials/abc')).toBe('/console/credentials/abc');
    expect(f.safeReturnPath('https://evil.example/')).toBe('/console/credentials');
    expect(f.safeReturnPath('//evil.example/console/')).toBe('/console/credentials');
    expect(f.safeReturnPath('/console/callback?code=x')).toBe('/console/credentials');
    expect(f.safeReturnPath(null)).toBe('/console/credentials');
  });
});
