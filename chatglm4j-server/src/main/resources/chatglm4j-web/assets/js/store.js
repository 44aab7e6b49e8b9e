// Conversations live in this browser's localStorage (key chatglm.conversations): the list, each one's display turns
// and the model history the server returned. Settings (sampling, tools, theme, language) are stored next to them.

const CONVERSATIONS = 'chatglm.conversations';
const SETTINGS = 'chatglm.settings';

export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return 'w-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function newConversation(mode) {
  const now = Date.now();
  return { id: newId(), title: '', mode, serverId: null, system: null, turns: [], history: [], created: now, updated: now };
}

export function loadConversations() {
  try {
    const list = JSON.parse(localStorage.getItem(CONVERSATIONS) || '[]');
    return Array.isArray(list) ? list.filter(valid) : [];
  } catch {
    return [];
  }
}

/**
 * Saves every conversation. When the browser's quota is exceeded, the figures of older turns are dropped
 * (they are the big part) and the save is tried again; returns false if that was needed.
 */
export function saveConversations(list) {
  const data = list.map(({ id, title, mode, serverId, system, turns, history, created, updated }) =>
    ({ id, title, mode, serverId, system, turns, history, created, updated }));
  try {
    localStorage.setItem(CONVERSATIONS, JSON.stringify(data));
    return true;
  } catch {
    for (const c of data) {
      c.turns = c.turns.map((t) => (t.parts ? { ...t, parts: t.parts.map(withoutImages) } : t));
    }
    try {
      localStorage.setItem(CONVERSATIONS, JSON.stringify(data));
    } catch {
      // still too big: keep what is in memory for this visit
    }
    return false;
  }
}

function withoutImages(part) {
  return part.result && part.result.images && part.result.images.length
    ? { ...part, result: { ...part.result, images: [], imagesDropped: part.result.images.length } }
    : part;
}

export function valid(c) {
  return c && typeof c === 'object' && typeof c.id === 'string' && Array.isArray(c.turns) && Array.isArray(c.history)
    && ['chat', 'tool', 'interpreter'].includes(c.mode);
}

export function loadSettings() {
  try {
    return JSON.parse(localStorage.getItem(SETTINGS) || '{}') || {};
  } catch {
    return {};
  }
}

export function saveSettings(settings) {
  localStorage.setItem(SETTINGS, JSON.stringify(settings));
}

/** The export file: {"format": "chatglm4j-conversations", "version": 1, "conversations": [...]}. */
export function exportJson(list) {
  return JSON.stringify({ format: 'chatglm4j-conversations', version: 1, exported: new Date().toISOString(),
    conversations: list.map(({ serverId, ...rest }) => rest) }, null, 2);
}

/** Conversations from an export file (or a bare array of them), each with a new id and no server conversation. */
export function importJson(text) {
  const data = JSON.parse(text);
  const list = Array.isArray(data) ? data : data && data.conversations;
  if (!Array.isArray(list)) throw new Error('no "conversations" list');
  const out = [];
  for (const c of list) {
    if (!valid({ ...c, id: 'x' })) throw new Error('not a conversation: ' + JSON.stringify(c).slice(0, 80));
    out.push({ ...c, id: newId(), serverId: null, title: String(c.title || ''), updated: Number(c.updated) || Date.now(),
      created: Number(c.created) || Date.now() });
  }
  return out;
}
