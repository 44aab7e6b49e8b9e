// Model text to safe HTML: marked (GitHub-flavoured markdown, single newlines kept) with code blocks highlighted by
// highlight.js and math typeset by KaTeX, then the whole HTML sanitized by DOMPurify before it reaches the page.
// Math: ChatGLM3 writes \( \) and \[ \] as well as $ and $$; the reference demo rewrites the first two for its
// renderer, here a marked extension takes all four forms before markdown could eat the backslashes or underscores.

const escapeMap = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => escapeMap[c]);
}

function tex(text, display) {
  if (!window.katex) return escapeHtml(display ? `$$${text}$$` : `$${text}$`);
  return window.katex.renderToString(text, { displayMode: display, throwOnError: false, output: 'htmlAndMathml', trust: false });
}

const DISPLAY = [/^\$\$([\s\S]+?)\$\$/, /^\\\[([\s\S]+?)\\\]/];
const INLINE = [/^\\\(([\s\S]+?)\\\)/, /^\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)/];

const math = {
  extensions: [
    {
      name: 'mathBlock',
      level: 'block',
      start(src) {
        const m = src.match(/\$\$|\\\[/);
        return m ? m.index : undefined;
      },
      tokenizer(src) {
        for (const re of DISPLAY) {
          const m = re.exec(src);
          if (m && /^\s*(\n|$)/.test(src.slice(m[0].length))) {
            return { type: 'mathBlock', raw: m[0], text: m[1].trim() };
          }
        }
        return undefined;
      },
      renderer(token) {
        return `<div class="math-display">${tex(token.text, true)}</div>\n`;
      },
    },
    {
      name: 'mathInline',
      level: 'inline',
      start(src) {
        const m = src.match(/\$|\\\(|\\\[/);
        return m ? m.index : undefined;
      },
      tokenizer(src) {
        for (const re of DISPLAY) {
          const m = re.exec(src);
          if (m) return { type: 'mathInline', raw: m[0], text: m[1].trim(), display: true };
        }
        for (const re of INLINE) {
          const m = re.exec(src);
          if (m) return { type: 'mathInline', raw: m[0], text: m[1].trim(), display: false };
        }
        return undefined;
      },
      renderer(token) {
        return tex(token.text, token.display);
      },
    },
  ],
};

let markdown = null;

function parser() {
  if (markdown) return markdown;
  const { Marked } = window.marked;
  markdown = new Marked({ gfm: true, breaks: true });
  markdown.use(math);
  markdown.use({
    renderer: {
      code({ text, lang }) {
        const language = (lang || '').trim().split(/\s+/)[0];
        let body;
        if (window.hljs && language && window.hljs.getLanguage(language)) {
          body = window.hljs.highlight(text, { language, ignoreIllegals: true }).value;
        } else if (window.hljs && text.length < 20000) {
          body = window.hljs.highlightAuto(text).value;
        } else {
          body = escapeHtml(text);
        }
        return codeBlock(body, language);
      },
      html({ text }) {
        return escapeHtml(text); // raw HTML in model text is shown as text, never interpreted
      },
    },
  });
  return markdown;
}

/** A code block with its language and a copy button (the click is handled by the page). */
export function codeBlock(highlightedHtml, language) {
  return `<div class="code-block"><div class="code-head"><span class="code-lang">${escapeHtml(language || 'text')}</span>`
    + `<button type="button" class="btn small copy" data-copy>Copy</button></div>`
    + `<pre><code class="hljs${language ? ` language-${escapeHtml(language)}` : ''}">${highlightedHtml}</code></pre></div>`;
}

export function highlight(code, language) {
  if (window.hljs && window.hljs.getLanguage(language)) {
    return window.hljs.highlight(code, { language, ignoreIllegals: true }).value;
  }
  return escapeHtml(code);
}

let hooked = false;

/** Sanitized HTML: no scripts, no event handlers, no forms or frames, links open safely. */
export function sanitize(html) {
  if (!hooked) {
    hooked = true;
    window.DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A' && node.hasAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
  }
  return window.DOMPurify.sanitize(html, {
    FORBID_TAGS: ['style', 'form', 'input', 'textarea', 'select', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['srcset'],
    ALLOW_DATA_ATTR: true,
  });
}

/** Markdown text of the model to sanitized HTML. */
export function renderMarkdown(text) {
  return sanitize(parser().parse(text));
}

/** The role-token strings ChatGLM3 can leak into text are not shown (the reference demo strips them too). */
export function stripRoleTokens(text) {
  return text.replace(/<\|(user|assistant|system|observation)\|>/g, '');
}
