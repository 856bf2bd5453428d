import { useEffect, useId, useState } from 'react';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { useTokenizeQuery } from './datasetsApi.ts';

const DEFAULT_TEXT = 'First Citizen:\nBefore we proceed any further, hear me speak.';

/** Shows how a tokenizer cuts a sample text: each token in its own colour, its id on hover. */
export function TokenizerPreview({ dataset, tokenizer }: { dataset?: string; tokenizer?: string }) {
  const id = useId();
  const [text, setText] = useState(DEFAULT_TEXT);
  const [debounced, setDebounced] = useState(text);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(text), 250);
    return () => clearTimeout(t);
  }, [text]);
  const query = useTokenizeQuery(
    dataset ? { text: debounced, dataset } : { text: debounced, tokenizer: tokenizer ?? 'char' },
    { skip: debounced.length === 0 },
  );
  const data = query.currentData ?? query.data;

  return (
    <div className="tokenizer-preview">
      <label htmlFor={`${id}-text`} className="field-label">
        Sample text
      </label>
      <textarea id={`${id}-text`} rows={3} value={text} onChange={(e) => setText(e.target.value)} />
      {query.error ? <ErrorNotice error={query.error} /> : null}
      {data ? (
        <>
          <p className="muted small" role="status">
            {data.tokens.length} tokens for {data.characters} characters (
            {data.characters > 0 ? (data.characters / Math.max(1, data.tokens.length)).toFixed(2) : '0'}{' '}
            characters per token) · {data.tokenizer.kind} tokenizer, vocabulary{' '}
            {data.tokenizer.vocabSize.toLocaleString('en')}
          </p>
          <div className="tokens" aria-label="Tokens" data-testid="tokens">
            {data.tokens.map((t, i) => (
              <span key={i} className={`tok tok-${i % 6}`} title={`token ${t.id}`} data-token-id={t.id}>
                {visible(t.text)}
              </span>
            ))}
          </div>
        </>
      ) : null}
    </div>
  );
}

/** Whitespace made visible, so a token that is only a space or a newline can be seen. */
function visible(text: string): string {
  return text.replace(/\n/g, '↵\n').replace(/\t/g, '→') || '∅';
}
