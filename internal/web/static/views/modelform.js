// The model connection panel, shared by the first-meeting "connect a model"
// step and Settings. Shows the live status (GET /api/model) and — for the
// owner — a form that saves a connection (PUT /api/model, which checks it
// live), with one line on what to run when nothing is connected. The other
// ways to connect (environment variables, config) are in docs/models.md;
// the API's how_to_connect still carries them for the CLI.

import { h } from '../dom.js';
import { api } from '../api.js';
import { field, alertBox, busy } from './common.js';

const PROVIDERS = [
  { value: 'openai', label: 'OpenAI-compatible (Ollama, LM Studio, vLLM…)', url: 'http://127.0.0.1:11434/v1', model: 'llama3.2' },
  { value: 'anthropic', label: 'Anthropic', url: 'https://api.anthropic.com', model: 'claude-sonnet-4-5' },
];

/**
 * modelPanel(ctx, {onStatus, settings, next}) returns {el, refresh}.
 * onStatus(status) is called with every status the panel learns. In the
 * first-meeting step (settings false) the form and "check again" give way to
 * the `next` element once a model is connected.
 */
export function modelPanel(ctx, { onStatus, settings = false, next = null } = {}) {
  const isOwner = ctx.state.me && ctx.state.me.user.role === 'owner';
  let status = ctx.state.model || null;

  const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
  const statusText = h('span', { class: 'model-line-text' });
  const statusLine = h('div', { class: 'model-line', role: 'status', 'aria-live': 'polite' }, dot, statusText);
  const detail = h('p', { class: 'hint model-detail', hidden: true });
  const problem = alertBox();
  // One line on what to run; the rest is in docs/models.md.
  const howTo = h('p', { id: 'model-run-hint', class: 'hint how-to', hidden: true },
    'Nothing running yet? On this machine run ', h('code', { text: 'ollama serve' }), ' and ',
    h('code', { text: 'ollama pull llama3.2' }), ', then connect to it here. Other ways to connect are in docs/models.md.');
  const recheck = h('button', { id: 'model-recheck', type: 'button', class: 'btn secondary', text: 'Check again' });

  const el = h('div', { class: 'model-panel' }, statusLine, detail, problem, next, howTo);

  let form = null;
  let provider, url, model, key, save, formErr, disconnect, modelList;
  if (isOwner) {
    provider = h('select', { id: 'model-provider', name: 'provider' },
      PROVIDERS.map((p) => h('option', { value: p.value, text: p.label })));
    url = h('input', { id: 'model-url', name: 'url', type: 'url', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
    modelList = h('datalist', { id: 'model-list' });
    model = h('input', { id: 'model-model', name: 'model', type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', list: 'model-list' });
    key = h('input', { id: 'model-key', name: 'api_key', type: 'password', autocomplete: 'off', spellcheck: 'false' });
    save = h('button', { id: 'model-save', type: 'submit', class: 'btn', text: 'Connect' });
    formErr = alertBox();
    const placeholders = () => {
      const p = PROVIDERS.find((x) => x.value === provider.value) || PROVIDERS[0];
      url.placeholder = p.url;
      model.placeholder = `e.g. ${p.model}`;
    };
    provider.addEventListener('change', placeholders);
    if (status && status.connected) {
      if (PROVIDERS.some((p) => p.value === status.provider)) provider.value = status.provider;
      url.value = status.url || '';
      model.value = status.model || '';
    }
    placeholders();
    const actions = h('div', { class: 'row' }, save, recheck);
    if (settings) {
      disconnect = h('button', { type: 'button', id: 'model-disconnect', class: 'btn ghost', text: 'Forget saved connection' });
      disconnect.addEventListener('click', async () => {
        formErr.clear();
        try {
          const s = await busy(disconnect, 'Forgetting…', () => api.put('/api/model', { provider: '' }));
          key.value = '';
          show(s);
        } catch (ex) { formErr.show(ex.message); }
      });
      actions.append(disconnect);
    }
    form = h('form', { id: 'model-form', class: 'form model-form', novalidate: true },
      field('Provider', provider),
      field('Server URL', url, 'Where the model API answers. Local servers usually end in /v1.'),
      field('Model', model),
      modelList,
      field('API key', key, 'Only needed for hosted providers. It is stored encrypted on this server.'),
      formErr,
      actions);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      formErr.clear();
      const body = { provider: provider.value, url: url.value.trim(), model: model.value.trim(), api_key: key.value };
      if (!body.model) { formErr.show('Please name the model to use.'); model.focus(); return; }
      try {
        const s = await busy(save, 'Checking…', () => api.put('/api/model', body));
        key.value = '';
        show(s);
        if (!s.connected) formErr.show(s.error || "That didn't connect. Check the URL, model name and key.");
      } catch (ex) {
        formErr.show(ex.message);
      }
    });
    el.append(form);
  } else {
    el.append(h('p', { class: 'member-note', text: 'Only the owner of this os1 can connect a language model. Please ask them to connect one, then check again.' }),
      h('div', { class: 'row' }, recheck));
  }

  recheck.addEventListener('click', async () => {
    problem.clear();
    try {
      const s = await busy(recheck, 'Checking…', () => api.get('/api/model?check=1'));
      show(s);
    } catch (ex) { problem.show(ex.message); }
  });

  let listed = false;
  async function loadModels() {
    if (!modelList || listed) return;
    listed = true;
    try {
      const res = await api.get('/api/model/models');
      modelList.replaceChildren(...(res.models || []).map((m) => h('option', { value: m })));
    } catch { /* listing is optional */ }
  }

  function show(s) {
    status = s || { connected: false };
    ctx.setModel(status);
    const reachable = !!status.connected && status.reachable !== false;
    el.dataset.connected = String(!!status.connected);
    el.dataset.reachable = String(reachable);
    statusText.textContent = !status.connected ? 'No language model is connected'
      : reachable ? `Connected to ${status.model || 'a language model'}`
        : `${status.model || 'The language model'} is not answering`;
    const notes = [];
    if (status.connected) {
      const p = PROVIDERS.find((x) => x.value === status.provider);
      if (status.provider) notes.push(p ? p.label.replace(/ \(.*/, '') : status.provider);
      if (status.url) notes.push(status.url);
      if (status.source) notes.push(`set by ${status.source}`);
    }
    if (status.fallback) notes.push(status.fallback);
    detail.textContent = notes.join(' · ');
    detail.hidden = notes.length === 0;
    problem.show(status.error || (status.connected && !reachable ? status.last_error || 'The model server did not answer.' : ''));
    howTo.hidden = !isOwner || !!status.connected;
    if (disconnect) disconnect.hidden = status.source !== 'settings';
    if (save && save.getAttribute('aria-busy') !== 'true') save.textContent = status.connected ? 'Save and check' : 'Connect';
    if (!settings) {
      const done = !!status.connected;
      if (form) form.hidden = done;
      recheck.hidden = done;
      if (next) next.hidden = !done;
    }
    if (status.connected) loadModels();
    if (onStatus) onStatus(status);
  }

  async function refresh() {
    try { show(await api.get('/api/model')); } catch (ex) { problem.show(ex.message); }
  }

  show(status);
  return { el, refresh };
}
