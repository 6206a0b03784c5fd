// GraphiQL for Jama Jama: served by the gateway (and by each OPD subgraph) itself, no request
// leaves its origin. The page's data-config attribute says where it runs and what it may offer.
import React, { useEffect, useMemo, useState } from 'react';
import { createPortal } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import { DOC_EXPLORER_PLUGIN, useEditorContext, useExplorerContext, usePluginContext } from '@graphiql/react';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import 'graphiql/graphiql.css';
import '@graphiql/plugin-explorer/dist/style.css';
import './jamajama.css';

const ROOT = document.getElementById('graphiql');
const CONFIG = { mode: 'gateway', catalogue_url: null, dev_tokens: false, ...readConfig() };
const GATEWAY = CONFIG.mode === 'gateway';
const ENDPOINT = window.location.pathname.replace(/\/+$/, '') || '/graphql';
const PLACEHOLDER = /^<.*>$|<[^>]*>/;
const NO_PURPOSE = '<tanpa tujuan yang disetujui>';
// One key per origin and mode: the gateway and each subgraph (other ports) keep their own.
const HEADERS_KEY = `jamajama:${CONFIG.mode}:headers`;
const PRESET_KEY = `jamajama:${CONFIG.mode}:preset`;
const DEFAULT_HEADERS = GATEWAY
  ? JSON.stringify(
      {
        Authorization: 'Bearer <token from jamajama token mint, or pick an application above>',
        'X-Jamajama-Purpose': '<purpose, e.g. pelayanan_kesehatan>',
      },
      null,
      2,
    )
  : '{}';
const DEFAULT_QUERY = GATEWAY
  ? '# Jama Jama — SPLP Provinsi Lampung\n# Pick an application above, write a query, run it with Ctrl-Enter;\n# the plan tab shows how the gateway fetches it from the OPD subgraphs.\n{\n  kabupatenKota {\n    kode\n    nama\n    jumlahPenduduk\n  }\n}\n'
  : '# This OPD subgraph alone (the gateway on port 4000 joins all five).\n{\n  _service {\n    sdl\n  }\n}\n';

function readConfig() {
  try {
    return JSON.parse(ROOT.dataset.config || '{}');
  } catch {
    return {};
  }
}

function stored(key, fallback) {
  try {
    return window.localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback; // storage disabled: nothing persists, everything else works
  }
}

function store(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // storage disabled or full
  }
}

// Header values still holding a placeholder are not sent.
function realHeaders(headers) {
  const result = {};
  for (const [name, value] of Object.entries(headers || {})) {
    if (typeof value === 'string' && !PLACEHOLDER.test(value)) result[name] = value;
  }
  return result;
}

function parseHeaders(text) {
  try {
    const value = JSON.parse(text || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return null;
  }
}

// What the schema depends on: the headers actually sent (placeholders and bad JSON change nothing).
function headersKey(text) {
  const parsed = parseHeaders(text);
  return parsed === null ? null : JSON.stringify(realHeaders(parsed));
}

// Is the operation GraphiQL runs a subscription? (then it is streamed: SSE or WebSocket)
function isSubscription(params) {
  try {
    const operation = getOperationAST(parse(params.query || ''), params.operationName || undefined);
    return operation?.operation === 'subscription';
  } catch {
    return false; // the server reports the syntax error
  }
}

// GraphQL over SSE, graphql-sse's distinct connections mode (docs/subscriptions.md): one
// response per `next` event, until `complete`; stopping GraphiQL aborts the request.
async function* sseResponses(params, headers) {
  const abort = new AbortController();
  try {
    const response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify(params),
      signal: abort.signal,
    });
    if (!response.ok || !response.body) {
      yield await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }));
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split('\n');
        const event = (lines.find((l) => l.startsWith('event:')) || '').slice(6).trim();
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (event === 'complete') return;
        if (event === 'next' && data) yield JSON.parse(data);
      }
    }
  } finally {
    abort.abort();
  }
}

// graphql-transport-ws (what OPD subgraphs serve): one connection per subscription.
async function* wsResponses(params) {
  const url = new URL(ENDPOINT, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const queue = [];
  let wake = null;
  const push = (item) => {
    queue.push(item);
    if (wake) wake();
  };
  socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  socket.onclose = (e) => push({ end: true, error: e.code === 1000 ? null : `closed (${e.code}) ${e.reason}` });
  socket.onmessage = (e) => {
    const message = JSON.parse(e.data);
    if (message.type === 'connection_ack') {
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: params }));
    } else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
    else if (message.type === 'next') push({ payload: message.payload });
    else if (message.type === 'error') push({ payload: { errors: message.payload }, end: true });
    else if (message.type === 'complete') push({ end: true });
  };
  try {
    for (;;) {
      if (!queue.length) await new Promise((resolve) => (wake = resolve));
      wake = null;
      const item = queue.shift();
      if (item.payload) yield item.payload;
      if (item.error) yield { errors: [{ message: item.error }] };
      if (item.end) return;
    }
  } finally {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id: '1', type: 'complete' }));
    socket.close(1000);
  }
}

// A fetcher bound to the headers the schema was introspected with: when they change the fetcher
// changes, and GraphiQL introspects again (so fields the new caller may see are not flagged red).
function makeFetcher(schemaHeaders) {
  return async (params, options) => {
    const headers = params.operationName === 'IntrospectionQuery' ? schemaHeaders : realHeaders(options?.headers);
    if (isSubscription(params)) return GATEWAY ? sseResponses(params, headers) : wsResponses(params);
    const response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...headers,
      },
      body: JSON.stringify(params),
    });
    return response.json();
  };
}

async function postJson(path, body, headers = {}) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || answer.errors) {
    throw new Error(answer.errors?.map((e) => e.message).join('\n') || `HTTP ${response.status}`);
  }
  return answer;
}

// --- application presets (gateway with development tokens) -------------------------------------

function withPreset(text, token, purpose) {
  const current = parseHeaders(text) || {};
  const next = { ...current };
  if (token !== undefined) {
    next.Authorization = token ? `Bearer ${token}` : 'Bearer <token from jamajama token mint, or pick an application above>';
  }
  next['X-Jamajama-Purpose'] = purpose || NO_PURPOSE;
  return JSON.stringify(next, null, 2);
}

function PresetBar({ headers, setHeaders }) {
  const [applications, setApplications] = useState([]);
  const [preset, setPreset] = useState(() => parseHeaders(stored(PRESET_KEY, '{}')) || {});
  const [status, setStatus] = useState('');

  async function choose(application, purpose, quiet = false) {
    if (!application) {
      setPreset({});
      store(PRESET_KEY, null);
      setHeaders((text) => withPreset(text, null, ''));
      setStatus('anonymous: aggregates only, no personal data');
      return;
    }
    try {
      const minted = await postJson('/graphiql/dev/token', { application });
      const chosen = minted.purposes.includes(purpose) ? purpose : minted.purposes[0] || '';
      const next = { application, purpose: chosen, purposes: minted.purposes };
      setPreset(next);
      store(PRESET_KEY, JSON.stringify(next));
      setHeaders((text) => withPreset(text, minted.token, chosen));
      if (!quiet) setStatus(`token for ${application} (valid ${Math.round(minted.expires_in / 60)} min)`);
    } catch (error) {
      setStatus(String(error.message || error));
    }
  }

  useEffect(() => {
    fetch('/graphiql/dev/applications')
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
      .then((body) => {
        setApplications(body.applications);
        // A stored preset gets a fresh token (the old one may have expired since the last visit).
        if (preset.application) choose(preset.application, preset.purpose, true);
      })
      .catch((error) => setStatus(`presets unavailable: ${error.message}`));
  }, []);

  function choosePurpose(purpose) {
    const next = { ...preset, purpose };
    setPreset(next);
    store(PRESET_KEY, JSON.stringify(next));
    setHeaders((text) => withPreset(text, undefined, purpose));
  }

  const purposes = preset.purposes || [];
  return (
    <>
      <label className="jj-field">
        Aplikasi
        <select
          data-testid="preset-application"
          value={preset.application || ''}
          onChange={(event) => choose(event.target.value, '')}
        >
          <option value="">— anonim —</option>
          {applications.map((a) => (
            <option key={a.id} value={a.id} title={`${a.opd}: ${a.name}`}>
              {a.id}
            </option>
          ))}
        </select>
      </label>
      <label className="jj-field">
        Tujuan
        <select
          data-testid="preset-purpose"
          value={preset.purpose || ''}
          disabled={purposes.length === 0}
          onChange={(event) => choosePurpose(event.target.value)}
        >
          {purposes.length === 0 && <option value="">— tidak ada tujuan yang disetujui —</option>}
          {purposes.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <span className="jj-status" data-testid="preset-status">
        {status}
      </span>
    </>
  );
}

function TopBar({ headers, setHeaders }) {
  return (
    <div className="jj-bar">
      <strong className="jj-title">Jama Jama · {GATEWAY ? 'gateway' : 'OPD subgraph'}</strong>
      {GATEWAY && CONFIG.dev_tokens && <PresetBar headers={headers} setHeaders={setHeaders} />}
      <span className="jj-spacer" />
      {CONFIG.catalogue_url && (
        <a className="jj-link" href={CONFIG.catalogue_url} target="_blank" rel="noopener noreferrer">
          Katalog data ↗
        </a>
      )}
    </div>
  );
}

// --- catalogue link in the documentation explorer ----------------------------------------------

function isField(def) {
  return Boolean(def) && typeof def.toConfig !== 'function' && 'args' in def && 'type' in def;
}

function CatalogueLink() {
  const explorer = useExplorerContext();
  const plugins = usePluginContext();
  const [target, setTarget] = useState(null);
  const stack = explorer?.explorerNavStack || [];
  const visible = plugins?.visiblePlugin === DOC_EXPLORER_PLUGIN;
  const last = stack[stack.length - 1];
  const parent = stack[stack.length - 2];
  const coordinate = visible && isField(last?.def) && parent?.def ? `${parent.def.name}.${last.def.name}` : null;
  useEffect(() => {
    setTarget(coordinate ? document.querySelector('.graphiql-doc-explorer-content') : null);
  }, [coordinate]);
  if (!coordinate || !target) return null;
  return createPortal(
    <div className="jj-catalogue">
      <a href={`${CONFIG.catalogue_url}#${coordinate}`} target="_blank" rel="noopener noreferrer" data-testid="catalogue-link">
        {coordinate} in the data catalogue ↗
      </a>
    </div>,
    target,
  );
}

// --- query plan --------------------------------------------------------------------------------

function PlanPanel() {
  const { queryEditor, headerEditor, operationName } = useEditorContext({ nonNull: true });
  const [plan, setPlan] = useState(null);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  async function show() {
    setBusy(true);
    try {
      const headers = realHeaders(parseHeaders(headerEditor?.getValue()) || {});
      const body = await postJson(
        `${ENDPOINT}/plan`,
        { query: queryEditor?.getValue() || '', operationName: operationName || undefined },
        headers,
      );
      setPlan(body.plan ?? 'No subgraph is called: the gateway answers this operation itself.');
    } catch (error) {
      setPlan(String(error.message || error));
    } finally {
      setBusy(false);
      setOpen(true);
    }
  }
  useEffect(() => {
    if (!open) return undefined;
    const close = (event) => event.key === 'Escape' && setOpen(false);
    window.addEventListener('keydown', close);
    return () => window.removeEventListener('keydown', close);
  }, [open]);
  return (
    <div className="jj-plan">
      <div className="graphiql-doc-explorer-title">Query plan</div>
      <p>How the gateway splits the current operation across the OPD subgraphs (opens full width).</p>
      <button type="button" className="graphiql-button jj-plan-button" onClick={show} disabled={busy}>
        {busy ? 'Planning…' : 'Show plan'}
      </button>
      {plan !== null && !open && (
        <button type="button" className="graphiql-button jj-plan-button" onClick={() => setOpen(true)}>
          Open the last plan
        </button>
      )}
      {open &&
        createPortal(
          <div className="jj-overlay" role="dialog" aria-label="Query plan" onClick={() => setOpen(false)}>
            <div className="jj-dialog" onClick={(event) => event.stopPropagation()}>
              <div className="jj-dialog-head">
                <strong>Query plan</strong>
                <button type="button" className="graphiql-button" onClick={() => setOpen(false)} aria-label="Close the plan">
                  Close (Esc)
                </button>
              </div>
              <pre className="jj-plan-text" data-testid="query-plan">
                {plan}
              </pre>
            </div>
          </div>,
          document.body,
        )}
    </div>
  );
}

function PlanIcon() {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <rect x="3" y="3" width="7" height="5" rx="1" />
      <rect x="14" y="9" width="7" height="5" rx="1" />
      <rect x="14" y="16" width="7" height="5" rx="1" />
      <path d="M6.5 8v10.5H14M6.5 11.5H14" />
    </svg>
  );
}

const planPlugin = { title: 'Query plan', icon: PlanIcon, content: PlanPanel };

// --- the page ----------------------------------------------------------------------------------

function App() {
  const [explorer] = useState(() => explorerPlugin());
  const [headers, setHeaders] = useState(() => stored(HEADERS_KEY, DEFAULT_HEADERS));
  const [schemaKey, setSchemaKey] = useState(() => headersKey(headers) ?? '{}');
  useEffect(() => {
    store(HEADERS_KEY, headers);
    // Re-introspect once the headers settle (not on every keystroke of a pasted token).
    const timer = setTimeout(() => {
      const key = headersKey(headers);
      if (key !== null) setSchemaKey(key);
    }, 400);
    return () => clearTimeout(timer);
  }, [headers]);
  const fetcher = useMemo(() => makeFetcher(JSON.parse(schemaKey)), [schemaKey]);
  return (
    <div className="jj-app">
      <TopBar headers={headers} setHeaders={setHeaders} />
      <div className="jj-graphiql">
        <GraphiQL
          fetcher={fetcher}
          plugins={GATEWAY ? [explorer, planPlugin] : [explorer]}
          headers={headers}
          onEditHeaders={setHeaders}
          defaultEditorToolsVisibility={GATEWAY ? 'headers' : false}
          shouldPersistHeaders={false}
          defaultQuery={DEFAULT_QUERY}
        >
          <GraphiQL.Logo>
            Graph<em>i</em>QL
            {CONFIG.catalogue_url && <CatalogueLink />}
          </GraphiQL.Logo>
        </GraphiQL>
      </div>
    </div>
  );
}

createRoot(ROOT).render(<App />);
