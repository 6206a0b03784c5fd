// GraphiQL for Jama Jama: served by the gateway itself, no request leaves its origin.
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { useEditorContext } from '@graphiql/react';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import 'graphiql/graphiql.css';
import '@graphiql/plugin-explorer/dist/style.css';
import './jamajama.css';

const ENDPOINT = window.location.pathname.replace(/\/+$/, '') || '/graphql';
const PLACEHOLDER = /^<.*>$|<[^>]*>/;
const DEFAULT_HEADERS = JSON.stringify(
  {
    Authorization: 'Bearer <token from jamajama token mint>',
    'X-Jamajama-Purpose': '<purpose, e.g. pelayanan_kesehatan>',
  },
  null,
  2,
);

// Header values still holding a placeholder are not sent.
function realHeaders(headers) {
  const result = {};
  for (const [name, value] of Object.entries(headers || {})) {
    if (typeof value === 'string' && !PLACEHOLDER.test(value)) result[name] = value;
  }
  return result;
}

function headersFromEditor(editor) {
  try {
    return realHeaders(JSON.parse(editor?.getValue() || '{}'));
  } catch {
    return {};
  }
}

async function fetcher(params, options) {
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...realHeaders(options?.headers),
    },
    body: JSON.stringify(params),
  });
  return response.json();
}

function PlanPanel() {
  const { queryEditor, headerEditor, operationName } = useEditorContext({ nonNull: true });
  const [plan, setPlan] = useState('Press "Show plan" to see how the gateway splits this operation across subgraphs.');
  const [busy, setBusy] = useState(false);
  async function show() {
    setBusy(true);
    try {
      const response = await fetch(`${ENDPOINT}/plan`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headersFromEditor(headerEditor) },
        body: JSON.stringify({ query: queryEditor?.getValue() || '', operationName: operationName || undefined }),
      });
      const body = await response.json();
      if (body.errors) setPlan(body.errors.map((e) => e.message).join('\n'));
      else setPlan(body.plan ?? 'No subgraph is called: the gateway answers this operation itself.');
    } catch (error) {
      setPlan(String(error));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="jj-plan">
      <div className="graphiql-doc-explorer-title">Query plan</div>
      <button type="button" className="graphiql-button jj-plan-button" onClick={show} disabled={busy}>
        {busy ? 'Planning…' : 'Show plan'}
      </button>
      <pre className="jj-plan-text" data-testid="query-plan">{plan}</pre>
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

function App() {
  const [explorer] = useState(() => explorerPlugin());
  return (
    <GraphiQL
      fetcher={fetcher}
      plugins={[explorer, planPlugin]}
      defaultHeaders={DEFAULT_HEADERS}
      defaultEditorToolsVisibility="headers"
      shouldPersistHeaders={false}
      defaultQuery={'# Jama Jama — SPLP Provinsi Lampung\n# Write a query, run it with Ctrl-Enter; the plan tab shows how it is fetched.\n{\n  __typename\n}\n'}
    />
  );
}

createRoot(document.getElementById('graphiql')).render(<App />);
