// The agent HTTP API of the server that served this page (same origin only): /api/info, conversations, turns
// (an event stream), files. The API key, when the server needs one, lives in sessionStorage (this tab only, gone
// when it closes) unless the user ticks "remember", then in localStorage.

const KEY = 'chatglm.apiKey';

/** An API failure with the server's error code (or 'network' when the server could not be reached). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
}

export function setApiKey(key, remember) {
  sessionStorage.setItem(KEY, key);
  if (remember) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

function headers(extra = {}) {
  const h = { ...extra };
  const key = apiKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function call(method, path, { body, json, signal, contentType } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(json !== undefined ? { 'Content-Type': 'application/json' } : contentType ? { 'Content-Type': contentType } : {}),
      body: json !== undefined ? JSON.stringify(json) : body,
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', e.message);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response) {
  let code = `http_${response.status}`;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || (response.status === 401 ? 'invalid_api_key' : code);
      message = body.error.message || message;
    }
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401) code = 'invalid_api_key';
  return new ApiError(response.status, code, message);
}

export async function info() {
  const r = await call('GET', 'api/info');
  return r.json();
}

export async function createConversation() {
  const r = await call('POST', 'api/conversations', { json: {} });
  return (await r.json()).id;
}

export async function deleteConversation(id) {
  await call('DELETE', `api/conversations/${encodeURIComponent(id)}`);
}

export async function stopTurn(id) {
  await call('POST', `api/conversations/${encodeURIComponent(id)}/stop`, { json: {} });
}

export async function upload(id, file) {
  const r = await call('PUT', `api/conversations/${encodeURIComponent(id)}/files/${encodeURIComponent(file.name)}`,
    { body: file, contentType: 'application/octet-stream' });
  return r.json();
}

/** A file the code wrote; name may name a sub-folder of /mnt/data ("plots/a.png"). */
export async function download(id, name) {
  const path = name.split('/').map(encodeURIComponent).join('/');
  const r = await call('GET', `api/conversations/${encodeURIComponent(id)}/files/${path}`);
  return r.blob();
}

/**
 * Runs one turn: POSTs the request and calls onEvent with each event of the stream, in order. Resolves when the
 * stream ends (after 'done' or 'error', or when the connection closed early: then with false).
 */
export async function turn(id, request, onEvent, signal) {
  const r = await call('POST', `api/conversations/${encodeURIComponent(id)}/turn`, { json: request, signal });
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let ended = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        if (!data) continue; // a comment (keep-alive)
        const event = JSON.parse(data);
        if (event.type === 'done' || event.type === 'error') ended = true;
        onEvent(event);
      }
    }
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    if (!ended) return false;
  }
  return ended;
}
