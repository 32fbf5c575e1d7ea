// The developer console: Developers → Credentials. It signs the member in
// through orgauth (./auth.js) and manages the organization's applications
// through the management API (./api.js).
import './style.css';
import { Auth, SignInRequired } from './auth.js';
import { ApiError, createApi } from './api.js';
import { h, uid } from './dom.js';
import * as f from './format.js';
import { listConsents, withdrawConsent } from './consents.js';

const BASE = '/console/';
const root = document.getElementById('app');

let auth;
let api;
let org = null; // GET /organization, once loaded
let apis = null; // GET /apis: the registered APIs and their scopes, once loaded
let flash = ''; // a message for the next page, such as "Deleted …"

// ------------------------------------------------------------------ start

start();

async function start() {
  let config;
  try {
    const res = await fetch(`${BASE}config.json`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`config.json answered ${res.status}`);
    config = await res.json();
    auth = new Auth(config);
    await auth.discover();
  } catch {
    bare('The console cannot start', errorBox(new Error('orgauth cannot be reached, or the console is not set up. Try again in a moment.'), start));
    return;
  }
  api = createApi(config.issuer, (force) => auth.accessToken(force));
  const url = new URL(location.href);

  if (url.pathname === `${BASE}callback`) {
    bare('Signing you in', loading('Signing you in…'));
    try {
      const returnTo = await auth.completeSignIn(url);
      history.replaceState(null, '', f.safeReturnPath(returnTo, BASE));
    } catch (err) {
      history.replaceState(null, '', `${BASE}credentials`);
      bare('Sign-in failed', h('div', { class: 'card' }, errorBox(signInError(err)), signInButton('Sign in again')));
      return;
    }
    route();
    return;
  }
  if (url.searchParams.get('state') === 'signed-out') {
    history.replaceState(null, '', BASE);
    bare('Signed out', h('div', { class: 'card' }, h('p', {}, 'You are signed out of orgauth.'), signInButton('Sign in')));
    return;
  }
  bare('Signing you in', loading('Signing you in…'));
  await auth.signIn(url.pathname + url.search);
}

function signInError(err) {
  if (err?.error === 'access_denied') return new Error('Your account is not a member of the organization that owns this console.');
  return new Error(err?.error_description || err?.message || 'The sign-in did not complete.');
}

function signInButton(text) {
  return h('button', { type: 'button', class: 'primary', onclick: () => auth.signIn(`${BASE}credentials`) }, text);
}

// A page without the signed-in frame: sign-in states and fatal errors.
function bare(title, ...content) {
  document.title = `${title} · orgauth`;
  root.replaceChildren(
    h('header', { class: 'top' }, h('span', { class: 'brand' }, 'orgauth'), h('span', { class: 'product' }, 'Developer console')),
    h('main', { id: 'main', tabindex: '-1', class: 'narrow' }, h('h1', {}, title), ...content),
  );
}

// ----------------------------------------------------------------- frame

function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

window.addEventListener('popstate', () => auth?.signedIn && route());

// Links inside the console change the page without a reload (which would
// sign in again: tokens live in memory only).
document.addEventListener('click', (e) => {
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE) || !auth?.signedIn) return;
  e.preventDefault();
  navigate(url.pathname);
});

function frame(title, ...content) {
  const current = title === 'Consents' ? 'consents' : 'credentials';
  document.title = `${title} · Developer console · orgauth`;
  const user = auth.user ?? {};
  const main = h('main', { id: 'main', tabindex: '-1' });
  if (flash) {
    main.append(h('p', { class: 'flash', role: 'status' }, flash));
    flash = '';
  }
  main.append(...content);
  root.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: `${BASE}credentials` }, 'orgauth'),
      h('span', { class: 'product' }, 'Developer console'),
      h(
        'div',
        { class: 'user' },
        h('span', { class: 'who', title: user.sub ?? '' }, user.email || user.name || user.sub || ''),
        h('button', { type: 'button', class: 'link', onclick: () => auth.signOut() }, 'Sign out'),
      ),
    ),
    h(
      'div',
      { class: 'layout' },
      h(
        'nav',
        { class: 'side', 'aria-label': 'Console' },
        h('h2', { id: 'nav-developers' }, 'Developers'),
        h(
          'ul',
          { 'aria-labelledby': 'nav-developers' },
          h('li', {}, h('a', { href: `${BASE}credentials`, 'aria-current': current === 'consents' ? null : 'page' }, 'Credentials')),
        ),
        h('h2', { id: 'nav-account' }, 'Your account'),
        h(
          'ul',
          { 'aria-labelledby': 'nav-account' },
          h('li', {}, h('a', { href: `${BASE}consents`, 'aria-current': current === 'consents' ? 'page' : null }, 'Consents')),
        ),
      ),
      main,
    ),
  );
  return main;
}

function focusMain() {
  const heading = document.querySelector('main h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

function route() {
  const path = location.pathname;
  const rest = path.startsWith(BASE) ? path.slice(BASE.length).replace(/\/$/, '') : '';
  if (rest === '') {
    history.replaceState(null, '', `${BASE}credentials`);
    return listPage();
  }
  if (rest === 'credentials') return listPage();
  if (rest === 'credentials/new') return createPage();
  if (rest === 'consents') return consentsPage();
  const m = /^credentials\/([^/]+)$/.exec(rest);
  if (m) return detailsPage(decodeURIComponent(m[1]));
  frame('Not found', h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: `${BASE}credentials` }, 'Go to Credentials')));
  focusMain();
}

// ------------------------------------------------------- shared pieces

function loading(text) {
  return h('p', { role: 'status', class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

function errorBox(err, retry) {
  if (err instanceof SignInRequired) {
    return h('div', { role: 'alert', class: 'error' }, h('p', {}, err.message), signInButton('Sign in again'));
  }
  const text = err instanceof ApiError && err.requestId ? `${err.message} (request ${err.requestId})` : err.message;
  return h(
    'div',
    { role: 'alert', class: 'error' },
    h('p', {}, text || 'Something went wrong.'),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null,
  );
}

async function loadOrganization() {
  if (!org) org = (await api('GET', '/organization')).data;
  return org;
}

// The scopes to choose from; without them the scopes field still takes text.
async function loadAPIs() {
  if (!apis) {
    try {
      apis = (await api('GET', '/apis')).data.apis ?? [];
    } catch {
      return [];
    }
  }
  return apis;
}

// scopeChoices offers the registered scopes: a scope the member's role does
// not hold cannot be given (the API refuses it too).
function scopeChoices(selected) {
  const defined = (apis ?? []).filter((a) => a.scopes.length);
  if (!defined.length) return h('p', { class: 'hint scope-choices' }, 'No API of this stage defines scopes yet.');
  const toggle = (name) => (e) => {
    const input = e.target.form?.elements.namedItem('scopes');
    if (input) input.value = f.toggleWord(input.value, name, e.target.checked);
  };
  return h(
    'fieldset',
    { class: 'scope-choices' },
    h('legend', {}, 'Registered scopes'),
    ...defined.map((a) =>
      h(
        'div',
        { class: 'scope-api' },
        h('p', { class: 'hint' }, `${a.name} (${a.audience})`),
        ...a.scopes.map((s) => {
          const id = uid('scope');
          const on = selected.includes(s.name);
          return h(
            'div',
            { class: 'choice' },
            h('input', { type: 'checkbox', id, value: s.name, 'data-scope': s.name, checked: on, disabled: !s.grantable && !on, onchange: toggle(s.name) }),
            h('label', { for: id }, h('code', {}, s.name), ` ${s.description}`, s.grantable ? '' : ' (your role cannot give it)'),
          );
        }),
      ),
    ),
  );
}

function timeEl(iso) {
  return h('time', { datetime: iso }, f.when(iso));
}

function crumbs(...items) {
  return h(
    'nav',
    { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h('ol', {}, h('li', {}, 'Developers'), ...items.map((it) => h('li', {}, it))),
  );
}

// --------------------------------------------------------------- list

async function listPage(next = '', rows = []) {
  const main = frame(
    'Credentials',
    crumbs(h('span', { 'aria-current': 'page' }, 'Credentials')),
    h('div', { class: 'title-row' }, h('h1', {}, 'Credentials'), h('a', { class: 'button primary', href: `${BASE}credentials/new` }, 'Create new')),
    h('p', { class: 'lede' }, 'The OAuth clients of your organization. Every member sees them all; only the member who created one can change it.'),
  );
  focusMain();
  const usage = h('p', { class: 'usage', role: 'status' });
  const body = h('div', {}, loading('Loading credentials…'));
  main.append(usage, body);
  loadOrganization().then((o) => {
    const text = f.tokenUsage(o);
    if (text) usage.textContent = `${text}; the quota starts again on ${f.when(o.m2m_quota_resets_at)}.`;
  }, () => {});
  let page;
  try {
    page = (await api('GET', `/applications?limit=50${next ? `&next=${encodeURIComponent(next)}` : ''}`)).data;
  } catch (err) {
    body.replaceChildren(errorBox(err, () => listPage(next, rows)));
    return;
  }
  const apps = rows.concat(page.applications);
  if (apps.length === 0) {
    body.replaceChildren(h('p', { class: 'empty' }, 'No credentials yet. Create the first one.'));
    return;
  }
  const sub = auth.user?.sub;
  body.replaceChildren(
    h(
      'table',
      { class: 'list' },
      h('caption', { class: 'visually-hidden' }, 'Credentials of your organization'),
      h('thead', {}, h('tr', {}, ['Name', 'Type', 'Created by', 'Created'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        apps.map((a) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, h('a', { href: `${BASE}credentials/${encodeURIComponent(a.client_id)}` }, a.name)),
            h('td', { 'data-label': 'Type' }, f.typeLabel(a.type)),
            h('td', { 'data-label': 'Created by', class: f.createdBy(a, sub) === 'you' ? 'you' : 'id' }, f.createdBy(a, sub)),
            h('td', { 'data-label': 'Created' }, timeEl(a.created_at)),
          ),
        ),
      ),
    ),
  );
  if (page.next) body.append(h('button', { type: 'button', onclick: () => listPage(page.next, apps) }, 'Show more'));
}

// ------------------------------------------------------------ fields

/** A labelled control with a hint and a place for the API's message. */
function field({ name, label, hint, kind = 'input', value = '', required = false, inputmode, type = 'text', rows = 3 }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-error`;
  const control =
    kind === 'textarea'
      ? h('textarea', { id, name, rows, 'aria-describedby': hintId, spellcheck: 'false', autocomplete: 'off' })
      : h('input', { id, name, type, inputmode, 'aria-describedby': hintId, required, autocomplete: 'off' });
  control.value = value;
  return h(
    'div',
    { class: 'field', 'data-field': name },
    h('label', { for: id }, label, required ? h('span', { class: 'req' }, ' (required)') : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    h('p', { class: 'field-error', id: errId, hidden: true }),
  );
}

function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
    if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
    else el.removeAttribute('aria-describedby');
  }
  form.querySelector('.form-error')?.replaceChildren();
}

/** Shows an API error beside the field it names, or above the form. */
function showError(form, err) {
  if (err instanceof ApiError && err.field) {
    const { name, text } = f.fieldMessage(err);
    const wrap = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    const control = wrap?.querySelector('input, textarea, select');
    if (wrap && control) {
      const msg = wrap.querySelector('.field-error');
      msg.textContent = text;
      msg.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') || ''} ${msg.id}`.trim());
      control.focus();
      return;
    }
  }
  form.querySelector('.form-error').replaceChildren(errorBox(err));
}

function formValues(form) {
  const out = {};
  for (const el of form.elements) if (el.name && el.type !== 'radio') out[el.name] = el.value;
  return out;
}

function settingsFields(type, app = {}) {
  const lifetimeRange = type === 'spa' ? '60 to 3600' : '60 to 86400';
  const nodes = [
    field({ name: 'name', label: 'Name', value: app.name ?? '', required: true, hint: 'Up to 100 characters; shown to members here.' }),
    field({ name: 'description', label: 'Description', kind: 'textarea', rows: 2, value: app.description ?? '' }),
  ];
  const urls = h(
    'div',
    { class: 'spa-only', hidden: type !== 'spa' },
    field({
      name: 'callback_urls', label: 'Callback URLs', kind: 'textarea', value: (app.callback_urls ?? []).join('\n'),
      hint: 'One per line. orgauth sends members back only to these exact URLs after they sign in. https, or http on localhost.',
    }),
    field({
      name: 'allowed_origins', label: 'Allowed origins', kind: 'textarea', value: (app.allowed_origins ?? []).join('\n'),
      hint: 'One per line, such as https://app.example.com: the sites whose pages may call the token endpoint.',
    }),
    field({
      name: 'logout_urls', label: 'Logout URLs', kind: 'textarea', value: (app.logout_urls ?? []).join('\n'),
      hint: 'One per line: where members may land after signing out.',
    }),
  );
  nodes.push(urls);
  nodes.push(
    field({
      name: 'access_token_lifetime', label: 'Access token lifetime (seconds)', inputmode: 'numeric',
      value: app.access_token_lifetime ? String(app.access_token_lifetime) : '',
      hint: `${lifetimeRange} seconds. Leave empty for the default of one hour.`,
    }),
  );
  if (type === 'm2m') {
    const id = uid('token_reuse');
    const select = h('select', { id, name: 'token_reuse', 'aria-describedby': `${id}-hint` },
      h('option', { value: 'on' }, 'On: answer a repeated request with the still-valid token'),
      h('option', { value: 'off' }, 'Off: sign a new token for every request'));
    select.value = app.token_reuse === false ? 'off' : 'on';
    nodes.push(h('div', { class: 'field', 'data-field': 'token_reuse' }, h('label', { for: id }, 'Token reuse'), select,
      h('p', { class: 'hint', id: `${id}-hint` }, 'A client that asks again while its token has at least half its lifetime left gets the same token back, without counting against the quota.')));
  }
  nodes.push(
    field({
      name: 'scopes', label: 'Scopes', value: (app.scopes ?? []).join(' '),
      hint: 'Optional, separated by spaces: scopes of the APIs below that your role holds.',
    }),
    scopeChoices(app.scopes ?? []),
  );
  return nodes;
}

// ------------------------------------------------------------- create

async function createPage() {
  const main = frame(
    'Create a credential',
    crumbs(h('a', { href: `${BASE}credentials` }, 'Credentials'), h('span', { 'aria-current': 'page' }, 'Create new')),
    h('h1', {}, 'Create a credential'),
  );
  focusMain();
  const planBox = h('div', {}, loading('Checking what your plan allows…'));
  main.append(planBox);
  let o;
  try {
    o = await loadOrganization();
    await loadAPIs();
  } catch (err) {
    planBox.replaceChildren(errorBox(err, createPage));
    return;
  }
  planBox.remove();

  const spaDesc = uid('spa-desc');
  const m2mDesc = uid('m2m-desc');
  const typeRadio = (value, label, descId, desc, disabled) =>
    h(
      'div',
      { class: `choice${disabled ? ' disabled' : ''}` },
      h('input', { type: 'radio', name: 'type', id: `${descId}-radio`, value, 'aria-describedby': descId, checked: value === 'spa', disabled }),
      h('label', { for: `${descId}-radio` }, label),
      h('div', { class: 'hint', id: descId }, ...desc),
    );
  const planNote = o.m2m_allowed
    ? null
    : h(
        'p',
        { class: 'plan-note' },
        `Needs the ${f.planLabel(o.m2m_minimum_plan)} plan or above. Your organization is on the ${f.planLabel(o.plan)} plan; ask an administrator to upgrade it to create M2M clients.`,
      );
  const fieldsBox = h('div', { class: 'fields' }, settingsFields('spa'));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create');
  const status = h('p', { role: 'status', class: 'form-status' });
  const form = h(
    'form',
    { novalidate: true, class: 'settings' },
    h('div', { class: 'form-error' }),
    h(
      'fieldset',
      { class: 'types', 'data-field': 'type' },
      h('legend', {}, 'Type'),
      typeRadio('spa', 'SPA OAuth Client', spaDesc, [
        h('p', {}, 'Choose this when the people using your application are members of this organization. Each of them signs in with their own account, and the application acts with that member’s own access.'),
        h('p', {}, 'A browser application signs members in with authorization code and PKCE. It holds no secret.'),
      ], false),
      typeRadio('m2m', 'M2M OAuth Client', m2mDesc, [
        h('p', {}, 'Choose this when the users of your product are not members of this organization, or when no person is involved: your servers call APIs on their own, with a client ID and a client secret.'),
        planNote,
      ], !o.m2m_allowed),
      h('p', { class: 'field-error', id: uid('type-error'), hidden: true }),
    ),
    fieldsBox,
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: `${BASE}credentials` }, 'Cancel')),
    status,
  );
  main.append(form);

  form.addEventListener('change', (e) => {
    if (e.target.name !== 'type') return;
    const values = formValues(form);
    const type = e.target.value;
    fieldsBox.replaceChildren(...settingsFields(type, {
      name: values.name, description: values.description, scopes: f.words(values.scopes),
      callback_urls: f.lines(values.callback_urls), allowed_origins: f.lines(values.allowed_origins), logout_urls: f.lines(values.logout_urls),
    }));
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const type = form.querySelector('input[name="type"]:checked')?.value ?? 'spa';
    const body = f.applicationBody(formValues(form), { type, create: true });
    submit.disabled = true;
    status.textContent = 'Creating…';
    try {
      const { data } = await api('POST', '/applications', body);
      status.textContent = '';
      const details = `${BASE}credentials/${encodeURIComponent(data.client_id)}`;
      if (data.client_secret) {
        await secretDialog({
          title: 'Copy the client secret now',
          clientId: data.client_id,
          secret: data.client_secret,
        });
      }
      flash = `Created ${data.name}.`;
      navigate(details);
    } catch (err) {
      status.textContent = '';
      submit.disabled = false;
      showError(form, err);
    }
  });
}

// ------------------------------------------------------------- dialogs

function copyRow(label, value) {
  const id = uid('copy');
  // A textarea, so that a long secret wraps and shows whole on a phone.
  const input = h('textarea', { id, readonly: true, rows: value.length > 30 ? 2 : 1, spellcheck: 'false', autocomplete: 'off', class: 'mono copy-value' });
  input.value = value;
  const feedback = h('span', { class: 'copied', role: 'status' });
  const button = h(
    'button',
    {
      type: 'button',
      'aria-label': `Copy ${label.toLowerCase()}`,
      onclick: async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(input.value);
          feedback.textContent = 'Copied';
        } catch {
          feedback.textContent = 'Selected: press Ctrl+C (⌘C) to copy';
        }
      },
    },
    'Copy',
  );
  return h('div', { class: 'copy-row' }, h('label', { for: id }, label), h('div', { class: 'copy-line' }, input, button), feedback);
}

/** Shows a secret once; resolves when the dialog is closed, after which the secret is gone from the page. */
function secretDialog({ title, clientId, secret, previousExpiresAt }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const warnId = uid('dlg-warn');
    const done = h('button', { type: 'button', class: 'primary' }, 'I have stored the secret');
    const dialog = h(
      'dialog',
      { 'aria-labelledby': titleId, 'aria-describedby': warnId, class: 'secret' },
      h('h2', { id: titleId }, title),
      h(
        'div',
        { class: 'warning', id: warnId },
        h('p', {}, h('strong', {}, 'This is the only time orgauth shows this secret.'), ' It is stored only as a hash: nobody can show it again. Store it in your secret manager now; if it is lost, rotate the secret.'),
      ),
      copyRow('Client ID', clientId),
      copyRow('Client secret', secret),
      previousExpiresAt === undefined
        ? null
        : h(
            'p',
            { class: 'grace' },
            previousExpiresAt
              ? ['The previous secret keeps working until ', timeEl(previousExpiresAt), '.']
              : 'The previous secret has stopped working.',
          ),
      h('div', { class: 'actions' }, done),
    );
    const close = () => dialog.close();
    done.addEventListener('click', close);
    dialog.addEventListener('close', () => {
      for (const input of dialog.querySelectorAll('textarea')) input.value = '';
      dialog.remove();
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    done.focus();
  });
}

/** Asks to confirm; resolves true for the confirm button. */
function confirmDialog({ title, text, confirm }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const textId = uid('dlg-text');
    let answer = false;
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const ok = h('button', { type: 'button', class: 'danger' }, confirm);
    const dialog = h(
      'dialog',
      { 'aria-labelledby': titleId, 'aria-describedby': textId, role: 'alertdialog' },
      h('h2', { id: titleId }, title),
      h('p', { id: textId }, text),
      h('div', { class: 'actions' }, cancel, ok),
    );
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

// ------------------------------------------------------------- details

async function detailsPage(id) {
  const main = frame(
    'Credential',
    crumbs(h('a', { href: `${BASE}credentials` }, 'Credentials'), h('span', { 'aria-current': 'page' }, 'Details')),
  );
  const body = h('div', {}, loading('Loading the credential…'));
  main.append(body);
  let res;
  try {
    res = await api('GET', `/applications/${encodeURIComponent(id)}`);
  } catch (err) {
    body.replaceChildren(h('h1', {}, 'Credential'), errorBox(err, () => detailsPage(id)));
    focusMain();
    return;
  }
  const app = res.data;
  let etag = res.etag;
  await loadAPIs();
  const sub = auth.user?.sub;
  const mine = f.mayChange(app, sub);
  document.title = `${app.name} · Developer console · orgauth`;
  main.querySelector('.crumbs [aria-current]').textContent = app.name;

  const graceLine = h('dd', {}, app.previous_secret_expires_at ? timeEl(app.previous_secret_expires_at) : 'No previous secret is active');
  const facts = h(
    'dl',
    { class: 'facts' },
    h('dt', {}, 'Type'), h('dd', {}, f.typeLabel(app.type)),
    h('dt', {}, 'Client ID'), h('dd', { class: 'mono' }, app.client_id),
    h('dt', {}, 'Created by'), h('dd', {}, f.createdBy(app, sub)),
    h('dt', {}, 'Created'), h('dd', {}, timeEl(app.created_at)),
    app.type === 'm2m' ? [h('dt', {}, 'Previous secret works until'), graceLine] : null,
  );
  body.replaceChildren(h('h1', {}, app.name), facts);
  focusMain();

  if (!mine) {
    const list = (xs) => (xs.length ? h('ul', { class: 'plain' }, xs.map((x) => h('li', { class: 'mono' }, x))) : h('span', { class: 'none' }, 'None'));
    body.append(
      h('p', { class: 'note' }, `Read-only. Only the member who created this credential (${app.created_by}) can change, rotate or delete it.`),
      h(
        'section',
        { 'aria-labelledby': 'settings-h' },
        h('h2', { id: 'settings-h' }, 'Settings'),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Description'), h('dd', {}, app.description || h('span', { class: 'none' }, 'None')),
          app.type === 'spa'
            ? [
                h('dt', {}, 'Callback URLs'), h('dd', {}, list(app.callback_urls)),
                h('dt', {}, 'Allowed origins'), h('dd', {}, list(app.allowed_origins)),
                h('dt', {}, 'Logout URLs'), h('dd', {}, list(app.logout_urls)),
              ]
            : null,
          h('dt', {}, 'Access token lifetime'), h('dd', {}, f.duration(app.access_token_lifetime)),
          app.type === 'm2m' ? [h('dt', {}, 'Token reuse'), h('dd', {}, app.token_reuse === false ? 'Off' : 'On')] : null,
          h('dt', {}, 'Scopes'), h('dd', {}, app.scopes.length ? app.scopes.join(' ') : h('span', { class: 'none' }, 'None')),
        ),
      ),
    );
    return;
  }

  // Settings.
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save changes');
  const saveStatus = h('p', { role: 'status', class: 'form-status' });
  const form = h(
    'form',
    { novalidate: true, class: 'settings', 'aria-labelledby': 'settings-h' },
    h('h2', { id: 'settings-h' }, 'Settings'),
    h('div', { class: 'form-error' }),
    settingsFields(app.type, app),
    h('div', { class: 'actions' }, save),
    saveStatus,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const values = formValues(form);
    const patch = f.applicationBody(values, { type: app.type, create: false });
    if (patch.access_token_lifetime === undefined) delete patch.access_token_lifetime;
    save.disabled = true;
    saveStatus.textContent = 'Saving…';
    try {
      const r = await api('PATCH', `/applications/${encodeURIComponent(app.client_id)}`, patch, { 'If-Match': etag });
      etag = r.etag;
      Object.assign(app, r.data);
      body.querySelector('h1').textContent = app.name;
      main.querySelector('.crumbs [aria-current]').textContent = app.name;
      saveStatus.textContent = 'Saved.';
    } catch (err) {
      saveStatus.textContent = '';
      showError(form, err);
    } finally {
      save.disabled = false;
    }
  });
  body.append(form);

  // Secret rotation.
  if (app.type === 'm2m') {
    const graceId = uid('grace');
    const rotateStatus = h('p', { role: 'status', class: 'form-status' });
    const rotate = h('button', { type: 'submit' }, 'Rotate secret');
    const rotForm = h(
      'form',
      { class: 'settings', 'aria-labelledby': 'rotate-h' },
      h('h2', { id: 'rotate-h' }, 'Client secret'),
      h('p', {}, 'Rotating makes a new secret, shown once. Give your servers time to switch: the old secret keeps working for the grace period you choose.'),
      h('div', { class: 'form-error' }),
      h(
        'div',
        { class: 'field', 'data-field': 'grace_period' },
        h('label', { for: graceId }, 'Grace period for the old secret'),
        h('select', { id: graceId, name: 'grace_period' }, f.gracePeriods.map((g) => h('option', { value: String(g.seconds), selected: g.seconds === 86400 }, g.label))),
        h('p', { class: 'field-error', id: `${graceId}-error`, hidden: true }),
      ),
      h('div', { class: 'actions' }, rotate),
      rotateStatus,
    );
    rotForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(rotForm);
      rotate.disabled = true;
      rotateStatus.textContent = 'Rotating…';
      try {
        const grace = Number(rotForm.elements.grace_period.value);
        const r = await api('POST', `/applications/${encodeURIComponent(app.client_id)}/rotate-secret`, { grace_period: grace }, { 'If-Match': etag });
        etag = r.etag;
        rotateStatus.textContent = '';
        graceLine.replaceChildren(r.data.previous_secret_expires_at ? timeEl(r.data.previous_secret_expires_at) : 'No previous secret is active');
        await secretDialog({
          title: 'Copy the new client secret now',
          clientId: r.data.client_id,
          secret: r.data.client_secret,
          previousExpiresAt: r.data.previous_secret_expires_at ?? null,
        });
        rotateStatus.textContent = 'The secret was rotated.';
      } catch (err) {
        rotateStatus.textContent = '';
        showError(rotForm, err);
      } finally {
        rotate.disabled = false;
      }
    });
    body.append(rotForm);
  }

  // Deletion.
  const delStatus = h('p', { role: 'status', class: 'form-status' });
  const delError = h('div', { class: 'form-error' });
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete credential');
  del.addEventListener('click', async () => {
    delError.replaceChildren();
    const yes = await confirmDialog({
      title: `Delete ${app.name}?`,
      text: 'Its client ID stops working at once: it gets no new tokens, and this cannot be undone.',
      confirm: 'Delete',
    });
    if (!yes) {
      del.focus();
      return;
    }
    del.disabled = true;
    delStatus.textContent = 'Deleting…';
    try {
      await api('DELETE', `/applications/${encodeURIComponent(app.client_id)}`, undefined, { 'If-Match': etag });
      flash = `Deleted ${app.name}.`;
      navigate(`${BASE}credentials`, true);
    } catch (err) {
      delStatus.textContent = '';
      del.disabled = false;
      delError.replaceChildren(errorBox(err));
    }
  });
  body.append(
    h(
      'section',
      { class: 'danger-zone', 'aria-labelledby': 'delete-h' },
      h('h2', { id: 'delete-h' }, 'Delete'),
      h('p', {}, 'Deleting the credential stops every sign-in and token for it.'),
      delError,
      del,
      delStatus,
    ),
  );
}

// ------------------------------------------------------------ consents

// The applications the member allowed to act for them; withdrawing one
// also ends its refresh tokens for them (./consents.js).
async function consentsPage() {
  const main = frame(
    'Consents',
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('ol', {}, h('li', {}, 'Your account'), h('li', {}, h('span', { 'aria-current': 'page' }, 'Consents')))),
    h('h1', {}, 'Consents'),
    h('p', { class: 'lede' }, 'The applications you allowed to act for you. Withdraw a consent to stop one: it loses its access, and asks you again the next time you sign in to it.'),
  );
  focusMain();
  const body = h('div', {}, loading('Loading your consents…'));
  main.append(body);
  let rows;
  try {
    rows = await listConsents(api);
  } catch (err) {
    body.replaceChildren(errorBox(err, consentsPage));
    return;
  }
  if (rows.length === 0) {
    body.replaceChildren(h('p', { class: 'empty' }, 'You have not allowed any application to act for you.'));
    return;
  }
  body.replaceChildren(
    ...rows.map((r) =>
      h(
        'section',
        { class: 'card consent', 'aria-label': r.name },
        h('h2', {}, r.name),
        h('p', { class: 'id' }, r.clientId),
        r.grantedAt ? h('p', {}, 'Allowed ', timeEl(r.grantedAt)) : null,
        h('ul', {}, r.scopes.map((s) => h('li', {}, `${s.where}: ${s.words} `, h('code', {}, s.scope)))),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              const ok = await confirmDialog({
                title: `Withdraw your consent for ${r.name}?`,
                text: 'It loses its access to your account now, and asks you again the next time you sign in to it.',
                confirm: 'Withdraw',
              });
              if (!ok) return;
              try {
                await withdrawConsent(api, r.clientId);
              } catch (err) {
                body.prepend(errorBox(err));
                return;
              }
              flash = `Withdrew your consent for ${r.name}.`;
              consentsPage();
            },
          },
          'Withdraw consent',
        ),
      ),
    ),
  );
}
