// The page: conversation list, the three modes (chat, tool, code interpreter), the composer, settings, theme and
// language. State lives in `state`; every change ends in save() and a render of what changed. Turns stream over
// api.turn(); several conversations may stream at once (each has its own AbortController in state.runs).
import * as api from './api.js';
import { t, setLanguage, language, defaultLanguage } from './i18n.js';
import { renderMarkdown, stripRoleTokens, highlight, codeBlock } from './render.js';
import * as store from './store.js';

/** The reference composite demo's sampling defaults, used until the server says its own. */
const REFERENCE_DEFAULTS = { max_tokens: 256, temperature: 0.95, top_p: 0.8, repetition_penalty: 1.1 };
const REFERENCE_SYSTEM = 'You are ChatGLM3, a large language model trained by Zhipu.AI. Follow the user\'s instructions carefully. Respond using markdown.';
const DEFINITIONS_EXAMPLE = `- name: get_current_weather
  description: Get the current weather in a given location
  parameters:
    type: object
    properties:
      location:
        type: string
        description: The city and state, e.g. San Francisco, CA
      unit:
        type: string
        enum: [celsius, fahrenheit]
    required: [location]`;
const MODE_ICON = { chat: '💬', tool: '🛠️', interpreter: '🧑‍💻' };

const $ = (id) => document.getElementById(id);
const state = {
  info: null,
  conversations: [],
  currentId: null,
  runs: new Map(), // conversation id -> { controller, stopping }
  settings: {},
  editing: null, // { convId, index }
  keyPrompt: null, // the pending Promise of the API-key dialog
  renderQueued: new Set(),
};

// ---------------------------------------------------------------- start

function start() {
  state.settings = store.loadSettings();
  setLanguage(state.settings.lang || defaultLanguage());
  applyTheme();
  state.conversations = store.loadConversations().sort((a, b) => b.updated - a.updated);
  for (const c of state.conversations) {
    for (const turn of c.turns) if (turn.streaming) { turn.streaming = false; turn.outcome = turn.outcome || 'interrupted'; }
  }
  if (!state.conversations.length) state.conversations.push(store.newConversation('chat'));
  state.currentId = state.settings.current && state.conversations.some((c) => c.id === state.settings.current)
    ? state.settings.current : state.conversations[0].id;
  wire();
  fillSettings();
  renderAll();
  loadInfo();
}

async function loadInfo() {
  try {
    state.info = await api.info();
  } catch (e) {
    showBanner(t('unreachable'));
    setTimeout(loadInfo, 3000);
    return;
  }
  $('model-name').textContent = state.info.model || '';
  if (state.info.ready === false) {
    showBanner(t('loading'));
    setTimeout(loadInfo, 2000);
  } else {
    hideBanner();
  }
  fillSettings();
  renderAll();
  if (state.info.auth && !api.apiKey()) askKey(false);
}

function showBanner(text) {
  $('banner').textContent = text;
  $('banner').hidden = false;
}

function hideBanner() {
  $('banner').hidden = true;
}

function notice(text) {
  $('notice-text').textContent = text;
  $('notice').hidden = false;
}

// ---------------------------------------------------------------- conversations

function current() {
  return state.conversations.find((c) => c.id === state.currentId);
}

function byId(id) {
  return state.conversations.find((c) => c.id === id);
}

function save() {
  state.settings.current = state.currentId;
  store.saveSettings(state.settings);
  if (!store.saveConversations(state.conversations)) notice(t('storageFull'));
}

function select(id) {
  state.currentId = id;
  state.editing = null;
  closeSidebar();
  save();
  renderAll();
  $('input').focus();
}

function newConversation(mode) {
  const existing = state.conversations.find((c) => c.mode === mode && c.turns.length === 0 && !state.runs.has(c.id));
  const conv = existing || store.newConversation(mode);
  if (!existing) state.conversations.unshift(conv);
  select(conv.id);
}

function setMode(mode) {
  const conv = current();
  if (conv.mode === mode) return;
  if (conv.turns.length === 0 && !state.runs.has(conv.id)) {
    conv.mode = mode;
    save();
    renderAll();
  } else {
    newConversation(mode);
  }
}

function titleOf(conv) {
  return conv.title || t('untitled');
}

async function deleteConversation(conv) {
  if (!(await confirmDialog(t('confirmDelete', { title: titleOf(conv) })))) return;
  stop(conv, true);
  if (conv.serverId) api.deleteConversation(conv.serverId).catch(() => {});
  state.conversations = state.conversations.filter((c) => c !== conv);
  if (!state.conversations.length) state.conversations.push(store.newConversation(conv.mode));
  if (state.currentId === conv.id) state.currentId = state.conversations[0].id;
  save();
  renderAll();
}

async function clearConversation() {
  const conv = current();
  if (!conv.turns.length) return;
  if (!(await confirmDialog(t('confirmClear')))) return;
  stop(conv, true);
  if (conv.serverId) api.deleteConversation(conv.serverId).catch(() => {});
  Object.assign(conv, { turns: [], history: [], serverId: null, attachments: [], title: '', updated: Date.now() });
  state.editing = null;
  save();
  renderAll();
}

function renameDialog(conv) {
  const dialog = $('rename-dialog');
  $('rename-input').value = conv.title || '';
  dialog.dataset.conv = conv.id;
  dialog.showModal();
  $('rename-input').select();
}

function exportConversations() {
  const blob = new Blob([store.exportJson(state.conversations)], { type: 'application/json' });
  saveBlob(blob, 'chatglm-conversations.json');
}

async function importConversations(file) {
  try {
    const list = store.importJson(await file.text());
    state.conversations = [...list, ...state.conversations].sort((a, b) => b.updated - a.updated);
    if (list.length) state.currentId = list[0].id;
    save();
    renderAll();
    notice(t('imported', { n: list.length }));
  } catch (e) {
    notice(t('errImport', { message: e.message }));
  }
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// ---------------------------------------------------------------- settings

function sampling() {
  const defaults = { ...REFERENCE_DEFAULTS, ...(state.info && state.info.defaults) };
  return { ...defaults, ...(state.settings.sampling || {}) };
}

function systemPrompt(conv) {
  return conv.system ?? (state.info && state.info.system_prompt) ?? REFERENCE_SYSTEM;
}

function fillSettings() {
  const s = sampling();
  $('max-tokens').value = s.max_tokens;
  for (const [id, key] of [['temperature', 'temperature'], ['top-p', 'top_p'], ['repetition-penalty', 'repetition_penalty']]) {
    $(id).value = s[key];
    $(`${id}-value`).textContent = Number(s[key]).toFixed(2);
  }
  const tools = (state.info && state.info.tools) || [];
  const selected = state.settings.builtin;
  $('builtin-tools').replaceChildren(...tools.map((tool) => {
    const label = document.createElement('label');
    label.className = 'tool';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = tool.name;
    box.checked = !selected || selected.includes(tool.name);
    box.addEventListener('change', () => {
      state.settings.builtin = [...$('builtin-tools').querySelectorAll('input:checked')].map((b) => b.value);
      save();
    });
    const name = document.createElement('code');
    name.textContent = tool.name;
    const description = document.createElement('span');
    description.className = 'hint';
    description.textContent = tool.description || '';
    label.append(box, ' ', name, ' ', description);
    return label;
  }));
  const source = state.settings.toolSource || 'builtin';
  for (const r of document.querySelectorAll('input[name=tool-source]')) r.checked = r.value === source;
  $('builtin-tools').hidden = source !== 'builtin';
  $('tool-definitions').hidden = source !== 'definitions';
  $('tool-definitions').value = state.settings.definitions ?? DEFINITIONS_EXAMPLE;
  $('manual-mode').checked = source === 'definitions' || !!state.settings.manual;
  $('manual-mode').disabled = source === 'definitions';
  $('max-rounds').textContent = maxRounds();
  const interp = state.info && state.info.interpreter;
  $('interpreter-state').textContent = interp && interp.available === false
    ? t('interpreterUnavailable', { reason: interp.reason || '' }) : t('interpreterReady');
  $('system-prompt').value = systemPrompt(current());
}

function maxRounds() {
  return (state.info && state.info.max_rounds) || 5;
}

function toolsRequest() {
  if ((state.settings.toolSource || 'builtin') === 'definitions') {
    return { tools: { definitions: $('tool-definitions').value }, manual: true };
  }
  const names = ((state.info && state.info.tools) || []).map((x) => x.name);
  return { tools: { builtin: state.settings.builtin || names }, manual: !!state.settings.manual };
}

function applyTheme() {
  const dark = state.settings.theme ? state.settings.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  $('hl-light').disabled = dark;
  $('hl-dark').disabled = !dark;
}

// ---------------------------------------------------------------- API key

/** Shows the key dialog (once, however many requests wait for it); resolves with the key, or null if cancelled. */
function askKey(rejected) {
  if (state.keyPrompt) return state.keyPrompt;
  const dialog = $('key-dialog');
  $('key-message').textContent = rejected ? t('keyRejected') : '';
  $('key-input').value = '';
  state.keyPrompt = new Promise((resolve) => {
    dialog.onclose = () => {
      state.keyPrompt = null;
      const key = dialog.returnValue === 'ok' ? $('key-input').value.trim() : '';
      if (key) api.setApiKey(key, $('key-remember').checked);
      resolve(key || null);
    };
  });
  dialog.returnValue = '';
  dialog.showModal();
  $('key-input').focus();
  return state.keyPrompt;
}

/** Runs action; on 401 asks for the key and tries again (until the user cancels). */
async function withKey(action) {
  for (;;) {
    try {
      return await action();
    } catch (e) {
      if (!(e instanceof api.ApiError) || e.code !== 'invalid_api_key') throw e;
      const key = await askKey(true);
      if (!key) throw e;
    }
  }
}

async function ensureServer(conv) {
  if (!conv.serverId) {
    conv.serverId = await withKey(() => api.createConversation());
    save();
  }
  return conv.serverId;
}

// ---------------------------------------------------------------- turns

function awaitingObservation(conv) {
  const last = conv.turns.at(-1);
  return !!last && last.role === 'assistant' && last.outcome === 'awaiting_observation';
}

function send() {
  const conv = current();
  const text = $('input').value;
  const attachments = conv.attachments || [];
  if (state.runs.has(conv.id) || (!text.trim() && !attachments.length)) return;
  $('input').value = '';
  const role = awaitingObservation(conv) ? 'observation' : 'user';
  const content = attachments.map((a) => a.announcement).join('') + text;
  conv.attachments = [];
  runTurn(conv, { role, content, text, files: attachments.map(({ name, size }) => ({ name, size })), history: conv.history.length });
}

/** Sends again from the user turn at index (after an edit: with new text); later turns are dropped. */
function resend(conv, index, text) {
  const turn = conv.turns[index];
  const prefix = turn.content.slice(0, turn.content.length - (turn.text ?? turn.content).length);
  conv.history = conv.history.slice(0, turn.history);
  conv.turns = conv.turns.slice(0, index);
  state.editing = null;
  runTurn(conv, { ...turn, content: prefix + text, text });
}

function regenerate() {
  const conv = current();
  if (state.runs.has(conv.id)) return;
  for (let i = conv.turns.length - 1; i >= 0; i--) {
    if (conv.turns[i].role !== 'assistant') {
      resend(conv, i, conv.turns[i].text ?? conv.turns[i].content);
      return;
    }
  }
}

async function runTurn(conv, userTurn) {
  const reply = { role: 'assistant', parts: [], outcome: null, stats: null, error: null, streaming: true, mode: conv.mode };
  conv.turns.push({ role: userTurn.role, content: userTurn.content, text: userTurn.text, files: userTurn.files, history: userTurn.history }, reply);
  if (!conv.title && userTurn.role === 'user') conv.title = (userTurn.text || userTurn.content).trim().replace(/\s+/g, ' ').slice(0, 60);
  conv.updated = Date.now();
  state.conversations.sort((a, b) => b.updated - a.updated);
  const run = { controller: new AbortController(), stopping: false };
  state.runs.set(conv.id, run);
  save();
  renderAll();
  const request = {
    mode: conv.mode,
    history: conv.history.slice(0, userTurn.history),
    message: { role: userTurn.role, content: userTurn.content },
    sampling: sampling(),
  };
  if (conv.mode === 'chat') request.system = systemPrompt(conv);
  if (conv.mode === 'tool') Object.assign(request, toolsRequest());
  reply.manual = !!request.manual;
  let gotDone = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await ensureServer(conv);
        const ended = await withKey(() => api.turn(conv.serverId, request, (event) => {
          if (event.type === 'done') gotDone = true;
          onEvent(conv, reply, event);
        }, run.controller.signal));
        if (!ended) reply.error = { code: 'connection_lost' };
        break;
      } catch (e) {
        if (e instanceof api.ApiError && e.status === 404 && attempt === 0 && conv.serverId) {
          conv.serverId = null; // the server forgot this conversation (restarted, or reaped it): make a new one
          notice(t('filesLost'));
          continue;
        }
        throw e;
      }
    }
  } catch (e) {
    if (e.name === 'AbortError') {
      reply.outcome = 'cancelled';
    } else {
      reply.error = { code: e.code || 'error', message: e.message };
      if (e.code === 'network') {
        showBanner(t('unreachable'));
        setTimeout(loadInfo, 3000);
      }
    }
  } finally {
    reply.streaming = false;
    state.runs.delete(conv.id);
    if (!gotDone && reply.outcome === 'cancelled' && conv.turns.includes(reply)) {
      // stopped before the server's summary: keep what was shown, so the next message follows it
      const text = reply.parts.filter((p) => p.type === 'text').map((p) => p.text).join('');
      conv.history = [...request.history, request.message, { role: 'assistant', content: text, metadata: '' }];
    }
    for (const part of reply.parts) {
      if (part.type === 'call' && (part.state === 'writing' || part.state === 'running')) part.state = reply.outcome === 'cancelled' ? 'cancelled' : part.state;
    }
    conv.updated = Date.now();
    save();
    renderAll();
  }
}

function lastCall(reply) {
  for (let i = reply.parts.length - 1; i >= 0; i--) if (reply.parts[i].type === 'call') return reply.parts[i];
  return null;
}

function onEvent(conv, reply, event) {
  const last = reply.parts.at(-1);
  switch (event.type) {
    case 'text':
      if (last && last.type === 'text' && last.round === event.round) last.text += event.text;
      else reply.parts.push({ type: 'text', round: event.round, text: event.text });
      break;
    case 'call_start':
      reply.parts.push({ type: 'call', round: event.round, name: event.name, code: '', state: 'writing' });
      break;
    case 'code': {
      const call = lastCall(reply);
      if (call) call.code += event.text;
      break;
    }
    case 'call': {
      let call = lastCall(reply);
      if (!call || call.round !== event.round || call.state !== 'writing') {
        call = { type: 'call', round: event.round, name: event.name, code: '' };
        reply.parts.push(call);
      }
      call.name = event.name;
      call.arguments = event.arguments ?? null;
      if (event.code != null) call.code = event.code;
      call.error = event.error ?? null;
      call.state = event.error ? 'unreadable' : reply.manual ? 'waiting' : 'running';
      break;
    }
    case 'status': {
      const call = lastCall(reply);
      if (call) call.status = event.message;
      break;
    }
    case 'result': {
      const call = lastCall(reply);
      if (call) {
        call.result = { display: event.display ?? event.observation ?? '', images: event.images || [], files: event.files || [],
          failed: !!event.failed, timed_out: !!event.timed_out, restarted: !!event.restarted };
        call.state = event.timed_out ? 'timedOut' : event.failed ? 'failed' : 'done';
        call.status = null;
        save(); // a tool's or a cell's result is kept as soon as it arrives
      }
      break;
    }
    case 'done':
      reply.outcome = event.outcome;
      reply.stats = event.stats || null;
      reply.maxRounds = event.max_rounds;
      // (unless the conversation was cleared or edited meanwhile: then this reply is no longer part of it)
      if (Array.isArray(event.history) && conv.turns.includes(reply)) conv.history = event.history.filter((h) => h.role !== 'system');
      save(); // now, not when the stream closes: a reload in between must not lose the finished turn
      break;
    case 'error':
      reply.error = { code: event.code, message: event.message };
      break;
    default:
      return;
  }
  queueRender(conv);
}

/** Stops the conversation's turn: asks the server to stop and keeps reading its summary; a second stop aborts. */
function stop(conv, now = false) {
  const run = state.runs.get(conv.id);
  if (!run) return;
  if (now || run.stopping || !conv.serverId) {
    run.controller.abort();
    return;
  }
  run.stopping = true;
  api.stopTurn(conv.serverId).catch(() => run.controller.abort());
  renderComposer();
}

// ---------------------------------------------------------------- uploads and downloads

async function uploadFiles(files) {
  const conv = current();
  try {
    await ensureServer(conv);
  } catch (e) {
    notice(errorText({ code: e.code, message: e.message }));
    return;
  }
  for (const file of files) {
    try {
      const r = await withKey(() => api.upload(conv.serverId, file));
      conv.attachments = [...(conv.attachments || []).filter((a) => a.name !== r.name), r];
    } catch (e) {
      notice(t('uploadFailed', { name: file.name, message: errorText({ code: e.code, message: e.message }) }));
    }
  }
  save();
  renderComposer();
}

async function downloadFile(conv, name) {
  try {
    const blob = await withKey(() => api.download(conv.serverId, name));
    saveBlob(blob, name);
  } catch (e) {
    notice(errorText({ code: e.code, message: e.message }));
  }
}

// ---------------------------------------------------------------- rendering

function renderAll() {
  renderList();
  renderModes();
  renderMessages();
  renderComposer();
  renderSettingsSections();
}

function renderList() {
  const list = $('conversation-list');
  list.replaceChildren(...state.conversations.map((conv) => {
    const li = document.createElement('li');
    li.className = 'conversation';
    li.dataset.id = conv.id;
    if (conv.id === state.currentId) li.setAttribute('aria-current', 'true');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'conversation-open';
    open.textContent = `${MODE_ICON[conv.mode]} ${titleOf(conv)}`;
    if (state.runs.has(conv.id)) open.append(Object.assign(document.createElement('span'), { className: 'running-dot', title: '…' }));
    open.addEventListener('click', () => select(conv.id));
    const rename = iconButton('✎', t('rename'), () => renameDialog(conv));
    rename.classList.add('conversation-rename');
    const del = iconButton('🗑', t('delete'), () => deleteConversation(conv));
    del.classList.add('conversation-delete');
    li.append(open, rename, del);
    return li;
  }));
}

function iconButton(text, label, action) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'btn icon small';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.title = label;
  b.addEventListener('click', action);
  return b;
}

function renderModes() {
  const mode = current().mode;
  for (const b of document.querySelectorAll('.mode')) b.setAttribute('aria-selected', String(b.dataset.mode === mode));
  document.body.dataset.mode = mode;
}

function renderSettingsSections() {
  const mode = current().mode;
  $('system-section').hidden = mode !== 'chat';
  $('tools-section').hidden = mode !== 'tool';
  $('interpreter-section').hidden = mode !== 'interpreter';
  $('system-prompt').value = systemPrompt(current());
}

function renderComposer() {
  const conv = current();
  const running = state.runs.has(conv.id);
  $('send').hidden = running;
  $('stop').hidden = !running;
  $('stop').classList.toggle('stopping', running && state.runs.get(conv.id).stopping);
  $('regenerate').disabled = running || !conv.turns.some((x) => x.role !== 'assistant');
  $('clear').disabled = !conv.turns.length;
  $('upload').hidden = conv.mode !== 'interpreter';
  const observing = awaitingObservation(conv);
  $('observation-note').hidden = !observing;
  $('input').placeholder = observing ? t('placeholderObservation') : t('placeholder');
  $('attachments').replaceChildren(...(conv.attachments || []).map((a) => {
    const chip = document.createElement('span');
    chip.className = 'chip';
    chip.textContent = `📎 ${a.name} (${size(a.size)})`;
    chip.append(iconButton('✕', t('removeFile', { name: a.name }), () => {
      conv.attachments = conv.attachments.filter((x) => x !== a);
      save();
      renderComposer();
    }));
    return chip;
  }));
}

function renderMessages() {
  const conv = current();
  const box = $('messages');
  if (!conv.turns.length) {
    const empty = document.createElement('p');
    empty.className = 'empty';
    empty.textContent = t({ chat: 'emptyChat', tool: 'emptyTool', interpreter: 'emptyInterpreter' }[conv.mode]);
    box.replaceChildren(empty);
    return;
  }
  box.replaceChildren(...conv.turns.map((turn, i) => turnElement(conv, turn, i)));
  box.scrollTop = box.scrollHeight;
}

function queueRender(conv) {
  if (conv.id !== state.currentId) return;
  if (!state.renderQueued.size) requestAnimationFrame(flushRender);
  state.renderQueued.add(conv.id);
}

/** At most one re-render of the streaming reply per frame, however many events arrived. */
function flushRender() {
  const ids = [...state.renderQueued];
  state.renderQueued.clear();
  const conv = current();
  if (!ids.includes(conv.id) || !conv.turns.length) return;
  const box = $('messages');
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  const index = conv.turns.length - 1;
  const old = box.querySelector(`article[data-index="${index}"]`);
  const fresh = turnElement(conv, conv.turns[index], index);
  if (old) old.replaceWith(fresh);
  else box.append(fresh);
  if (nearBottom) box.scrollTop = box.scrollHeight;
}

function turnElement(conv, turn, index) {
  const article = document.createElement('article');
  article.className = `message ${turn.role}`;
  article.dataset.index = index;
  const role = document.createElement('div');
  role.className = 'role';
  role.textContent = turn.role === 'assistant' ? t('assistant') : turn.role === 'observation' ? t('observation') : t('you');
  article.append(role);
  if (turn.role === 'assistant') {
    article.append(...assistantParts(conv, turn));
    return article;
  }
  if (turn.files && turn.files.length) {
    const files = document.createElement('div');
    files.className = 'files';
    for (const f of turn.files) {
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = `📎 ${f.name} (${size(f.size)})`;
      files.append(chip);
    }
    article.append(files);
  }
  const editing = state.editing && state.editing.convId === conv.id && state.editing.index === index;
  if (editing) {
    const area = document.createElement('textarea');
    area.className = 'edit-input';
    area.value = turn.text ?? turn.content;
    area.setAttribute('aria-label', t('edit'));
    area.rows = Math.min(12, area.value.split('\n').length + 1);
    const actions = document.createElement('div');
    actions.className = 'message-actions';
    const sendEdit = document.createElement('button');
    sendEdit.type = 'button';
    sendEdit.className = 'btn primary small edit-send';
    sendEdit.textContent = t('sendEdit');
    sendEdit.addEventListener('click', () => resend(conv, index, area.value));
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'btn small edit-cancel';
    cancel.textContent = t('cancel');
    cancel.addEventListener('click', () => { state.editing = null; renderMessages(); });
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); resend(conv, index, area.value); }
      if (e.key === 'Escape') { state.editing = null; renderMessages(); }
    });
    actions.append(cancel, sendEdit);
    article.append(area, actions);
    queueMicrotask(() => area.focus());
    return article;
  }
  const content = document.createElement('div');
  content.className = 'content plain';
  content.textContent = turn.text ?? turn.content;
  article.append(content);
  if (!state.runs.has(conv.id)) {
    const actions = document.createElement('div');
    actions.className = 'message-actions';
    const edit = iconButton('✎', t('edit'), () => { state.editing = { convId: conv.id, index }; renderMessages(); });
    edit.classList.add('edit');
    actions.append(edit);
    article.append(actions);
  }
  return article;
}

function assistantParts(conv, turn) {
  const out = [];
  turn.parts.forEach((part, i) => {
    const lastPart = i === turn.parts.length - 1;
    if (part.type === 'text') {
      const text = stripRoleTokens(part.text);
      if (!text.trim() && !(turn.streaming && lastPart)) return;
      const div = document.createElement('div');
      div.className = 'content markdown';
      if (turn.streaming && lastPart) div.classList.add('streaming');
      div.innerHTML = renderMarkdown(text);
      localizeCopy(div);
      out.push(div);
    } else {
      out.push(callElement(conv, turn, part));
    }
  });
  if (turn.streaming && !turn.parts.length) {
    const div = document.createElement('div');
    div.className = 'content markdown streaming';
    div.append(document.createElement('p'));
    out.push(div);
  }
  const note = outcomeText(turn);
  if (note) {
    const p = document.createElement('p');
    p.className = 'outcome';
    p.textContent = note;
    out.push(p);
  }
  if (turn.error) {
    const p = document.createElement('p');
    p.className = 'error-text';
    p.setAttribute('role', 'alert');
    p.textContent = errorText(turn.error);
    out.push(p);
  }
  if (turn.stats) {
    const s = turn.stats;
    const p = document.createElement('p');
    p.className = 'stats';
    p.textContent = t('stats', { prompt: s.prompt_tokens ?? 0, cached: s.cached_tokens ?? 0, promptSpeed: speed(s.prompt_tokens_per_second),
      completion: s.completion_tokens ?? 0, genSpeed: speed(s.generation_tokens_per_second) });
    out.push(p);
  }
  return out;
}

function callElement(conv, turn, part) {
  const details = document.createElement('details');
  details.className = `call state-${part.state}`;
  details.open = !part.collapsed;
  details.addEventListener('toggle', () => { part.collapsed = !details.open; });
  const summary = document.createElement('summary');
  const interpreter = part.name === 'interpreter';
  const name = document.createElement('span');
  name.className = 'call-name';
  name.textContent = `${interpreter ? '🧑‍💻' : '🛠️'} ${part.name}`;
  const status = document.createElement('span');
  status.className = 'call-state';
  status.textContent = part.status && part.state === 'running' ? part.status : callStateText(part);
  const round = document.createElement('span');
  round.className = 'call-round';
  round.textContent = t('round', { round: part.round, max: turn.maxRounds || maxRounds() });
  summary.append(name, ' ', status, ' ', round);
  details.append(summary);
  if (interpreter || (part.arguments == null && part.code)) {
    const code = document.createElement('div');
    code.className = 'call-code';
    // while it streams, the body still has its markdown fence; the parsed call has none
    const source = (part.code || '').replace(/^\s*```[\w-]*\n?/, '').replace(/\n?```\s*$/, '');
    code.innerHTML = codeBlock(highlight(source, 'python'), 'python');
    localizeCopy(code);
    details.append(code);
  } else if (part.arguments != null) {
    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = t('arguments');
    const pre = document.createElement('pre');
    pre.className = 'call-arguments';
    pre.textContent = JSON.stringify(part.arguments, null, 2);
    details.append(label, pre);
  }
  if (part.error) {
    const p = document.createElement('p');
    p.className = 'error-text';
    p.textContent = part.error;
    details.append(p);
  }
  if (part.result) {
    const result = document.createElement('div');
    result.className = 'call-result';
    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = t('result');
    result.append(label);
    if (part.result.display) {
      const pre = document.createElement('pre');
      pre.className = 'output';
      pre.textContent = part.result.display;
      result.append(pre);
    }
    part.result.images.forEach((png, i) => {
      const img = document.createElement('img');
      img.className = 'figure';
      img.alt = `figure ${i + 1}`;
      img.src = `data:image/png;base64,${png}`;
      result.append(img);
    });
    if (part.result.files.length) {
      const list = document.createElement('ul');
      list.className = 'file-list';
      for (const f of part.result.files) {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'btn small download';
        b.dataset.name = f.name;
        b.textContent = `⬇ ${f.name} (${size(f.size)})`;
        b.setAttribute('aria-label', `${t('download')} ${f.name}`);
        b.addEventListener('click', () => downloadFile(conv, f.name));
        li.append(b);
        list.append(li);
      }
      result.append(list);
    }
    details.append(result);
  }
  return details;
}

function callStateText(part) {
  return {
    writing: t('callWriting'), running: t('callRunning'), done: t('callDone'), failed: t('callFailed'),
    timedOut: t('callTimedOut'), unreadable: t('callUnreadable'), waiting: t('callWaiting'), cancelled: t('outcomeCancelled'),
  }[part.state] || '';
}

function outcomeText(turn) {
  switch (turn.outcome) {
    case 'cancelled': case 'interrupted': return t('outcomeCancelled');
    case 'length': return t('outcomeLength');
    case 'round_limit': return t('outcomeRoundLimit', { max: turn.maxRounds || maxRounds() });
    case 'awaiting_observation': return t('outcomeAwaiting');
    default: return '';
  }
}

function errorText(error) {
  switch (error.code) {
    case 'model_loading': return t('errModelLoading');
    case 'server_busy': return t('errServerBusy');
    case 'too_many_workers': return t('errTooManyWorkers');
    case 'too_many_conversations': return t('errTooManyConversations');
    case 'sandbox_unavailable': return t('errSandbox', { message: error.message || '' });
    case 'context_length_exceeded': return t('errContext', { message: error.message || '' });
    case 'invalid_api_key': return t('errKey');
    case 'server_stopping': return t('errStopping');
    case 'conversation_deleted': return t('errDeleted');
    case 'network': return t('errNetwork');
    case 'connection_lost': return t('connectionLost');
    default: return t('errGeneric', { message: error.message || error.code });
  }
}

function localizeCopy(root) {
  for (const b of root.querySelectorAll('[data-copy]')) b.textContent = t('copy');
}

function speed(x) {
  return x == null ? '–' : Number(x).toFixed(1);
}

function size(n) {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

async function copyCode(button) {
  const code = button.closest('.code-block').querySelector('code').textContent;
  try {
    await navigator.clipboard.writeText(code);
  } catch {
    const area = Object.assign(document.createElement('textarea'), { value: code });
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  button.textContent = t('copied');
  button.classList.add('copied');
}

// ---------------------------------------------------------------- dialogs and panels

function confirmDialog(text) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = text;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue === 'ok');
    dialog.showModal();
    $('confirm-ok').focus();
  });
}

function openSidebar() {
  $('app').classList.add('sidebar-open');
  $('scrim').hidden = false;
  $('open-sidebar').setAttribute('aria-expanded', 'true');
  const first = $('sidebar').querySelector('[aria-current] .conversation-open') || $('new-conversation');
  first.focus();
}

function closeSidebar() {
  if (!$('app').classList.contains('sidebar-open')) return;
  $('app').classList.remove('sidebar-open');
  $('scrim').hidden = true;
  $('open-sidebar').setAttribute('aria-expanded', 'false');
}

function toggleSettings(open = $('settings').hidden) {
  $('settings').hidden = !open;
  $('open-settings').setAttribute('aria-expanded', String(open));
  if (open) $('close-settings').focus();
  else $('open-settings').focus();
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
    if (e.key === 'Escape' && state.runs.has(state.currentId)) { e.preventDefault(); stop(current()); }
  });
  $('stop').addEventListener('click', () => stop(current()));
  $('regenerate').addEventListener('click', regenerate);
  $('clear').addEventListener('click', clearConversation);
  $('upload').addEventListener('click', () => $('upload-file').click());
  $('upload-file').addEventListener('change', (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    if (files.length) uploadFiles(files);
  });
  $('new-conversation').addEventListener('click', () => newConversation(current().mode));
  for (const b of document.querySelectorAll('.mode')) b.addEventListener('click', () => setMode(b.dataset.mode));
  $('export').addEventListener('click', exportConversations);
  $('import').addEventListener('click', () => $('import-file').click());
  $('import-file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) importConversations(file);
  });
  $('open-sidebar').addEventListener('click', openSidebar);
  $('close-sidebar').addEventListener('click', closeSidebar);
  $('scrim').addEventListener('click', () => { closeSidebar(); });
  $('open-settings').addEventListener('click', () => toggleSettings());
  $('close-settings').addEventListener('click', () => toggleSettings(false));
  $('theme').addEventListener('click', () => {
    state.settings.theme = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    applyTheme();
    save();
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
  $('language').addEventListener('click', () => {
    state.settings.lang = language() === 'zh' ? 'en' : 'zh';
    setLanguage(state.settings.lang);
    $('language').textContent = language() === 'zh' ? 'EN' : '中';
    save();
    fillSettings();
    renderAll();
  });
  $('language').textContent = language() === 'zh' ? 'EN' : '中';
  $('notice-close').addEventListener('click', () => { $('notice').hidden = true; });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if ($('app').classList.contains('sidebar-open')) closeSidebar();
    else if (!$('settings').hidden && $('settings').contains(document.activeElement)) toggleSettings(false);
  });

  $('messages').addEventListener('click', (e) => {
    const copy = e.target.closest('[data-copy]');
    if (copy) copyCode(copy);
  });

  $('system-prompt').addEventListener('input', () => {
    const conv = current();
    conv.system = $('system-prompt').value;
    save();
  });
  $('max-tokens').addEventListener('change', () => setSampling('max_tokens', Math.max(5, Math.min(32000, parseInt($('max-tokens').value, 10) || 256))));
  for (const [id, key] of [['temperature', 'temperature'], ['top-p', 'top_p'], ['repetition-penalty', 'repetition_penalty']]) {
    $(id).addEventListener('input', () => {
      $(`${id}-value`).textContent = Number($(id).value).toFixed(2);
      setSampling(key, Number($(id).value));
    });
  }
  $('reset-sampling').addEventListener('click', () => { delete state.settings.sampling; save(); fillSettings(); });
  for (const r of document.querySelectorAll('input[name=tool-source]')) {
    r.addEventListener('change', () => { state.settings.toolSource = r.value; save(); fillSettings(); });
  }
  $('tool-definitions').addEventListener('input', () => { state.settings.definitions = $('tool-definitions').value; save(); });
  $('manual-mode').addEventListener('change', () => { state.settings.manual = $('manual-mode').checked; save(); });
  $('change-key').addEventListener('click', () => askKey(false));

  $('key-cancel').addEventListener('click', () => $('key-dialog').close(''));
  $('key-form').addEventListener('submit', (e) => { e.preventDefault(); $('key-dialog').close('ok'); });
  $('rename-cancel').addEventListener('click', () => $('rename-dialog').close(''));
  $('rename-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const conv = byId($('rename-dialog').dataset.conv);
    if (conv) {
      conv.title = $('rename-input').value.trim();
      save();
      renderList();
    }
    $('rename-dialog').close('ok');
  });
  $('confirm-cancel').addEventListener('click', () => $('confirm-dialog').close(''));
  $('confirm-form').addEventListener('submit', (e) => { e.preventDefault(); $('confirm-dialog').close('ok'); });
  window.addEventListener('storage', (e) => {
    // another tab changed the conversations: take them unless this tab is streaming
    if (e.key === 'chatglm.conversations' && !state.runs.size) {
      state.conversations = store.loadConversations().sort((a, b) => b.updated - a.updated);
      if (!state.conversations.some((c) => c.id === state.currentId)) {
        if (!state.conversations.length) state.conversations.push(store.newConversation('chat'));
        state.currentId = state.conversations[0].id;
      }
      renderAll();
    }
  });
}

function setSampling(key, value) {
  state.settings.sampling = { ...(state.settings.sampling || {}), [key]: value };
  save();
}

start();
