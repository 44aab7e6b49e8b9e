// Interface text in English and Chinese. Static text in index.html names its key in data-i18n (text),
// data-i18n-aria (aria-label), data-i18n-title and data-i18n-placeholder; scripts call t(key, values).

const TEXT = {
  en: {
    conversations: 'Conversations', close: 'Close', newConversation: 'New conversation', export: 'Export', import: 'Import',
    mode: 'Mode', modeChat: 'Chat', modeTool: 'Tool', modeInterpreter: 'Code Interpreter',
    theme: 'Switch light/dark theme', language: '切换到中文', settings: 'Settings', message: 'Message',
    placeholder: 'Chat with ChatGLM3!', placeholderObservation: 'Type the tool result…',
    observationNote: 'The model called a tool: type its result (the observation) and send it.',
    upload: 'Upload file', clear: 'Clear', regenerate: 'Regenerate', stop: 'Stop', send: 'Send',
    systemPrompt: 'System prompt (chat mode only)', tools: 'Tools', builtinTools: 'Built-in tools',
    ownTools: 'My definitions (JSON or YAML)', manualMode: 'Manual mode: I type the tool results',
    maxRounds: 'Model calls per message, at most', sampling: 'Sampling', maxTokens: 'Output length (max tokens)',
    temperature: 'Temperature', topP: 'Top-p', repetitionPenalty: 'Repetition penalty', resetSampling: 'Reset to defaults',
    apiKey: 'API key', changeKey: 'Enter API key…', apiKeyNeeded: 'This server needs an API key',
    keyRejected: 'The server did not accept this key.', rememberKey: 'Remember in this browser',
    cancel: 'Cancel', ok: 'OK', save: 'Save', rename: 'Rename', delete: 'Delete', edit: 'Edit', sendEdit: 'Send',
    copy: 'Copy', copied: 'Copied', download: 'Download', you: 'You', assistant: 'ChatGLM3', observation: 'Tool result',
    untitled: 'New conversation', confirmDelete: 'Delete the conversation “{title}”?',
    confirmClear: 'Clear this conversation?', emptyChat: 'Ask anything. Replies stream here.',
    emptyTool: 'Ask something the tools can answer, e.g. “What is the weather in Beijing?”',
    emptyInterpreter: 'Ask for something to compute or plot; upload files into /mnt/data first if you need them.',
    stats: 'prompt {prompt} tokens ({cached} cached), {promptSpeed} tokens/s · reply {completion} tokens, {genSpeed} tokens/s',
    round: 'round {round} of {max}', callWriting: 'writing…', callRunning: 'running…', callDone: 'done',
    callFailed: 'failed', callTimedOut: 'timed out', callRestarted: 'the interpreter was restarted',
    callUnreadable: 'could not be read', callWaiting: 'waiting for your result', arguments: 'Arguments', result: 'Result',
    outcomeCancelled: 'Stopped.', outcomeLength: 'The reply reached the length limit.',
    outcomeRoundLimit: 'Stopped after {max} model calls (the round limit).', outcomeAwaiting: 'Waiting for the tool result.',
    connectionLost: 'The connection to the server was lost before the reply ended.',
    loading: 'The model is loading; you can send once it is ready.', unreachable: 'Cannot reach the server. Is `chatglm serve` running?',
    errModelLoading: 'The model is still loading. Try again in a moment.',
    errServerBusy: 'The server is busy (its queue is full). Try again in a moment.',
    errTooManyWorkers: 'Too many code interpreters are running on the server. Try again later or delete an old conversation.',
    errSandbox: 'The code interpreter is not available on the server: {message}',
    errContext: 'The conversation is too long for the model’s context: {message}',
    errTooManyConversations: 'The server keeps too many conversations. Delete old ones and try again.',
    errStopping: 'The server is shutting down.', errDeleted: 'This conversation was deleted while it ran.',
    errKey: 'The API key was refused.', errGeneric: 'Error: {message}', errNetwork: 'Cannot reach the server.',
    errImport: 'Could not import that file: {message}', imported: 'Imported {n} conversations.',
    interpreterReady: 'Code runs in a sandbox on the server: no network, files in /mnt/data.',
    interpreterUnavailable: 'The code interpreter is not available on this server: {reason}',
    uploadFailed: 'Upload of {name} failed: {message}', filesLost: 'The server no longer had this conversation; its uploaded files are gone.',
    removeFile: 'Remove {name}', storageFull: 'The browser’s storage is full: pictures of older replies were not saved.',
  },
  zh: {
    conversations: '对话列表', close: '关闭', newConversation: '新对话', export: '导出', import: '导入',
    mode: '模式', modeChat: '对话', modeTool: '工具', modeInterpreter: '代码解释器',
    theme: '切换浅色/深色主题', language: 'Switch to English', settings: '设置', message: '消息',
    placeholder: 'Chat with ChatGLM3!', placeholderObservation: '输入工具的返回结果…',
    observationNote: '模型调用了工具：请输入工具的返回结果（observation）并发送。',
    upload: '上传文件', clear: '清空', regenerate: '重新生成', stop: '停止', send: '发送',
    systemPrompt: '系统提示词（仅对话模式）', tools: '工具', builtinTools: '内置工具',
    ownTools: '自定义工具（JSON 或 YAML）', manualMode: '手动模式：由我输入工具结果',
    maxRounds: '每条消息最多调用模型次数', sampling: '采样参数', maxTokens: '输出长度（最大 token 数）',
    temperature: '温度 (temperature)', topP: 'Top-p', repetitionPenalty: '重复惩罚 (repetition penalty)', resetSampling: '恢复默认值',
    apiKey: 'API 密钥', changeKey: '输入 API 密钥…', apiKeyNeeded: '此服务器需要 API 密钥',
    keyRejected: '服务器拒绝了这个密钥。', rememberKey: '在此浏览器中记住',
    cancel: '取消', ok: '确定', save: '保存', rename: '重命名', delete: '删除', edit: '编辑', sendEdit: '发送',
    copy: '复制', copied: '已复制', download: '下载', you: '你', assistant: 'ChatGLM3', observation: '工具结果',
    untitled: '新对话', confirmDelete: '删除对话“{title}”？', confirmClear: '清空当前对话？',
    emptyChat: '随便问点什么，回答会在这里流式显示。', emptyTool: '问一个工具能回答的问题，例如“北京天气怎么样？”',
    emptyInterpreter: '让模型计算或画图；需要文件时先上传到 /mnt/data。',
    stats: '提示 {prompt} tokens（缓存 {cached}），{promptSpeed} tokens/s · 回复 {completion} tokens，{genSpeed} tokens/s',
    round: '第 {round} 轮，共 {max} 轮', callWriting: '编写中…', callRunning: '运行中…', callDone: '完成',
    callFailed: '失败', callTimedOut: '超时', callRestarted: '解释器已重启', callUnreadable: '无法解析',
    callWaiting: '等待你输入结果', arguments: '参数', result: '结果',
    outcomeCancelled: '已停止。', outcomeLength: '回复达到了长度上限。', outcomeRoundLimit: '已调用模型 {max} 次（轮数上限），停止。',
    outcomeAwaiting: '等待工具结果。', connectionLost: '回复结束前与服务器的连接断开了。',
    loading: '模型加载中，加载完成后即可发送。', unreachable: '无法连接服务器。`chatglm serve` 在运行吗？',
    errModelLoading: '模型仍在加载，请稍后再试。', errServerBusy: '服务器繁忙（队列已满），请稍后再试。',
    errTooManyWorkers: '服务器上运行的代码解释器太多。请稍后再试或删除旧对话。',
    errSandbox: '服务器上的代码解释器不可用：{message}', errContext: '对话超出了模型的上下文长度：{message}',
    errTooManyConversations: '服务器保存的对话过多。请删除旧对话后重试。',
    errStopping: '服务器正在关闭。', errDeleted: '此对话在运行时被删除。',
    errKey: 'API 密钥被拒绝。', errGeneric: '错误：{message}', errNetwork: '无法连接服务器。',
    errImport: '无法导入该文件：{message}', imported: '已导入 {n} 个对话。',
    interpreterReady: '代码在服务器的沙箱中运行：不能联网，文件位于 /mnt/data。',
    interpreterUnavailable: '此服务器上的代码解释器不可用：{reason}',
    uploadFailed: '上传 {name} 失败：{message}', filesLost: '服务器上已没有这个对话，之前上传的文件已丢失。',
    removeFile: '移除 {name}', storageFull: '浏览器存储已满：较早回复中的图片未保存。',
  },
};

let current = 'en';

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = TEXT[lang] ? lang : 'en';
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

/** The text for key in the current language, with {name} replaced by values.name. */
export function t(key, values = {}) {
  const s = TEXT[current][key] ?? TEXT.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}

export function defaultLanguage() {
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}
